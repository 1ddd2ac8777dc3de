"""A plan before work: G's size, the values read, time and memory, known before G is read; requests
beyond max_values refused with the plan; every keyword checked; tickets independent of jobs."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import pytest

from stronglth import ConstructionPlan, construct, plan, random_target
from stronglth.constructions.planning import DEFAULT_MAX_VALUES
from stronglth.errors import InvalidInputError, TooLargeError

TARGET = random_target(3, [4, 2], seed=1)


@pytest.mark.parametrize(
    "method, options",
    [
        ("malach", {"eps": 0.3, "block_sizes": [20, 10], "on_failure": "best_effort"}),
        ("malach", {"eps": 0.3, "rule": "matching", "block_sizes": [50, 40], "on_failure": "best_effort"}),
        ("malach", {"eps": 0.3}),
        ("subsetsum", {"eps": 0.3, "block_sizes": [12, 10], "on_failure": "best_effort"}),
    ],
)
def test_the_plan_describes_the_g_the_construction_builds(method, options):
    the_plan = plan(TARGET, method=method, seed=0, **options)
    ticket = construct(TARGET, method=method, seed=0, **options)
    assert isinstance(the_plan, ConstructionPlan) and the_plan.final
    assert the_plan.widths == ticket.network.dims
    assert the_plan.parameter_count == ticket.network.parameter_count
    assert tuple(ticket.meta["block_sizes"]) == the_plan.block_sizes
    assert the_plan.values > 0 and the_plan.seconds > 0 and the_plan.memory > 0
    assert f"{the_plan.parameter_count:,} weights" in the_plan.line()


def test_an_auto_plan_says_where_the_search_starts():
    the_plan = plan(TARGET, method="subsetsum", eps=0.1, seed=0)
    assert not the_plan.final and "start of the auto search" in the_plan.line()


@pytest.mark.parametrize(
    "target, options",
    [
        (random_target(4, [8, 8, 1], seed=0), {"eps": 1e-12}),  # k ~ 1.7e14: 8e7 pieces and MemoryError before
        (random_target(4, [8, 8, 1], seed=0), {"eps": 1e-9}),  # an 8-hour scan that started without a word
        (random_target(64, [32, 10], seed=0), {"eps": 0.1, "rule": "matching"}),  # 7e11 values
    ],
)
def test_requests_beyond_max_values_are_refused_with_the_plan(target, options):
    the_plan = plan(target, seed=0, **options)
    assert the_plan.values > DEFAULT_MAX_VALUES
    with pytest.raises(TooLargeError, match=r"plan: malach .* reads [\d,]+ values, about .*max_values.*--max-values"):
        construct(target, seed=0, **options)


def test_max_values_is_a_limit_the_caller_sets():
    with pytest.raises(TooLargeError, match="max_values = 10"):
        construct(TARGET, eps=0.3, seed=0, block_sizes=[20, 10], on_failure="best_effort", max_values=10)
    assert construct(TARGET, eps=0.3, seed=0, block_sizes=[20, 10], on_failure="best_effort", max_values=math.inf).nnz > 0
    for bad in (0, -1, "1e9", True, None):
        with pytest.raises(InvalidInputError, match="max_values"):
            construct(TARGET, eps=0.3, seed=0, block_sizes=[20, 10], on_failure="best_effort", max_values=bad)


def test_the_refusal_costs_no_memory():
    """eps = 1e-12 used to take 2.6 GB before its MemoryError: under a 1 GiB address-space cap the
    refusal comes first."""
    script = textwrap.dedent(
        """
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        import stronglth as s
        try:
            s.construct(s.random_target(4, [8, 8, 1], seed=0), eps=1e-12, seed=0)
        except s.TooLargeError:
            print("refused")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "refused", result.stderr


@pytest.mark.parametrize(
    "method, bad, message",
    [
        ("malach", {"epsilon": 0.1}, r"unknown keyword\(s\) epsilon for method 'malach'; valid: eps, delta"),
        ("subsetsum", {"rule": "best"}, r"unknown keyword\(s\) rule for method 'subsetsum'"),
        ("malach", {"negative_half_everywhere": "no"}, "negative_half_everywhere"),
        ("subsetsum", {"negative_half_everywhere": 1}, "negative_half_everywhere"),
        ("malach", {"progress": "yes"}, "progress"),
        ("malach", {"rule": "Best"}, "rule"),
        ("malach", {"on_failure": "ignore"}, "on_failure"),
        ("malach", {"jobs": 2.0}, "jobs"),
        ("malach", {"delta": 1.0}, "delta"),
        ("subsetsum", {"delta": 0.0}, "delta"),
    ],
)
def test_every_keyword_is_checked(method, bad, message):
    options = {"eps": 0.3, "seed": 0} | bad
    with pytest.raises(InvalidInputError, match=message):
        construct(TARGET, method=method, **options)
    with pytest.raises(InvalidInputError, match=message):
        plan(TARGET, method=method, **options)


def test_an_unknown_method_is_refused():
    with pytest.raises(InvalidInputError, match="unknown construction method 'pensia'"):
        plan(TARGET, method="pensia", eps=0.1, seed=0)


@pytest.mark.parametrize(
    "method, options",
    [("malach", {"eps": 0.2, "block_sizes": [300, 200]}), ("subsetsum", {"eps": 0.2, "block_sizes": [14, 12]})],
)
def test_the_ticket_file_does_not_depend_on_jobs(tmp_path, method, options):
    """The same inputs give byte-identical files whatever jobs is (no wall time in the ticket)."""
    one = construct(TARGET, method=method, seed=3, jobs=1, on_failure="best_effort", **options)
    two = construct(TARGET, method=method, seed=3, jobs=2, on_failure="best_effort", **options)
    assert "seconds" not in one.meta
    assert one.save(tmp_path / "one.npz").read_bytes() == two.save(tmp_path / "two.npz").read_bytes()
