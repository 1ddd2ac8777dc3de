"""The public toolkit of experiments (stronglth/experiments/toolkit.py): the smallest-block-size
search against the built-in width-vs-eps cell and against direct constructions, and the built-ins'
shared pieces being the toolkit's own objects."""

from __future__ import annotations

import pytest

from stronglth import TicketNotFound, construct, random_target
from stronglth.errors import InvalidInputError
from stronglth.experiments import _common, toolkit
from stronglth.experiments import width_vs_eps as wve


def test_the_builtins_share_the_toolkits_objects():
    for name in _common.__all__:
        assert getattr(_common, name) is getattr(toolkit, name), name
    assert wve.search is toolkit.threshold_search


def direct_successes(target, method, eps, delta, k, seeds) -> int:
    """Successes over seeds 0..seeds-1 by calling construct directly (the oracle)."""
    out = 0
    for seed in range(seeds):
        options = dict(eps=eps, delta=delta, seed=seed, block_sizes=[k] * target.depth, progress=False)
        try:
            if method == "subsetsum":
                construct(target, method="subsetsum", **options)
            else:
                construct(target, method="malach", rule=method.split("-")[1], **options)
            out += 1
        except TicketNotFound:
            pass
    return out


@pytest.mark.parametrize("method, eps, seeds, delta", [("malach-best", 0.4, 4, 0.3), ("subsetsum", 0.1, 3, 0.1)])
def test_smallest_block_size_is_the_width_vs_eps_measurement(method, eps, seeds, delta):
    target = random_target(2, [2, 1], seed=0)
    found = toolkit.smallest_block_size(target, method, eps=eps, delta=delta, seeds=seeds, rtol=0.1)
    builtin = wve.cell(wve.WidthVsEpsCell(method=method, eps=eps, seeds=seeds, delta=delta, rtol=0.1))
    assert (found.k, found.k_fail, found.successes, found.allowed_failures, found.theorem_k, found.constructions) == (
        builtin["k"],
        builtin["k_fail"],
        builtin["successes"],
        builtin["allowed_failures"],
        builtin["theorem_k"],
        builtin["constructions"],
    )
    needed = seeds - found.allowed_failures
    assert direct_successes(target, method, eps, delta, found.k, seeds) == found.successes >= needed
    if found.k_fail > 0:
        assert direct_successes(target, method, eps, delta, found.k_fail, seeds) < needed
    assert found.as_dict()["k"] == found.k


def test_construction_succeeds_is_construct_not_raising():
    target = random_target(2, [2, 1], seed=0)
    assert toolkit.construction_succeeds(target, "malach-best", eps=0.4, delta=0.3, seed=0, block_sizes=[1, 1]) is False
    assert toolkit.construction_succeeds(target, "malach-best", eps=0.4, delta=0.3, seed=0, block_sizes=[3000, 3000]) is (
        direct_successes(target, "malach-best", 0.4, 0.3, 3000, 1) == 1
    )


def test_a_cap_that_never_passes_gives_no_block_size():
    target = random_target(2, [2, 1], seed=0)
    found = toolkit.smallest_block_size(target, "malach-best", eps=0.4, delta=0.3, seeds=2, start=1, cap=4)
    assert found.k is None and found.successes is None and found.k_fail == 4


def test_bad_arguments_are_package_errors():
    target = random_target(2, [2, 1], seed=0)
    for kwargs, message in [
        (dict(method="malach"), "method must be one of"),
        (dict(delta=1.0), "delta must lie in"),
        (dict(seeds=0), "seeds must be a positive integer"),
        (dict(rtol=0.0), "rtol must be > 0"),
        (dict(start=0), "positive block sizes"),
    ]:
        options = dict(method="subsetsum", eps=0.2, delta=0.1, seeds=2) | kwargs
        with pytest.raises(InvalidInputError, match=message):
            toolkit.smallest_block_size(target, options.pop("method"), **options)
