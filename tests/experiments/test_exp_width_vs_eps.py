"""width-vs-eps (stronglth/experiments/width_vs_eps.py): the threshold search, a real cell checked
against direct constructions, and the exponent fits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stronglth import TicketNotFound, construct, random_target
from stronglth.experiments import width_vs_eps as wve


@given(threshold=st.integers(1, 5000), start=st.integers(1, 5000), rtol=st.floats(0.01, 0.5), cap=st.integers(1, 20000))
def test_search_brackets_the_threshold(threshold, start, rtol, cap):
    calls = []

    def passes(k):
        calls.append(k)
        return k >= threshold

    k, k_fail = wve.search(passes, start, cap, rtol)
    if threshold > cap:
        assert k is None
        return
    assert k >= threshold > k_fail and k in calls
    assert k - k_fail <= 1 or k <= k_fail * (1 + rtol)
    assert all(c <= cap for c in calls) and len(calls) <= 60


def successes(target, method, eps, delta, k, seeds):
    out = 0
    for seed in range(seeds):
        try:
            if method == "subsetsum":
                construct(target, method="subsetsum", eps=eps, delta=delta, seed=seed, block_sizes=[k] * target.depth)
            else:
                construct(target, eps=eps, delta=delta, seed=seed, block_sizes=[k] * target.depth, rule=method.split("-")[1])
            out += 1
        except TicketNotFound:
            pass
    return out


@pytest.mark.parametrize("method, eps, seeds, delta", [("malach-best", 0.4, 4, 0.3), ("subsetsum", 0.1, 3, 0.1)])
def test_cell_finds_a_block_size_that_works_above_one_that_does_not(method, eps, seeds, delta):
    config = wve.WidthVsEpsCell(method=method, eps=eps, seeds=seeds, delta=delta)
    result = wve.cell(config)
    assert result == wve.cell(config), "a pure function of its config"
    target = random_target(2, [2, 1], seed=0)
    needed = seeds - result["allowed_failures"]
    assert result["allowed_failures"] == int(delta * seeds)
    assert successes(target, method, eps, delta, result["k"], seeds) == result["successes"] >= needed
    if result["k_fail"] > 0:
        assert successes(target, method, eps, delta, result["k_fail"], seeds) < needed
    assert result["k"] <= max(result["k_fail"] + 1, result["k_fail"] * (1 + config.rtol))
    if method == "malach-best":
        assert result["theorem_k"] == max(result["theorem_block_sizes"])


def test_fits_recover_a_synthetic_exponent():
    inv_eta = np.geomspace(10, 1000, 6)
    records = [{"method": "malach-matching", "inv_eta": x, "k": 3 * x**2, "theorem_k": 7 * x**2} for x in inv_eta]
    records += [{"method": "subsetsum", "inv_eta": x, "k": 5 + 2 * np.log(x), "theorem_k": None} for x in inv_eta]
    fits = {(f["method"], f["source"], f["model"]): f for f in wve.fits(records)}
    assert fits["malach-matching", "measured", "power"]["slope"] == pytest.approx(2.0)
    assert fits["malach-matching", "theorem", "power"]["slope"] == pytest.approx(2.0)
    assert fits["subsetsum", "measured", "log"]["slope"] == pytest.approx(2.0)
    assert ("subsetsum", "theorem", "power") not in fits


def test_default_grid_is_the_documented_one():
    cells = wve.grid(False)
    assert {c.method for c in cells} == set(wve.METHODS)
    assert min(c.eps for c in cells if c.method == "malach-matching") == pytest.approx(0.025)
    assert all(c.seeds == 20 and c.delta == 0.1 for c in cells)
    assert len(wve.grid(True)) > len(cells)
