"""depth and looseness (stronglth/experiments/depth.py, looseness.py): one real cell each, whose
measures must nest (adversarial <= exact <= certified, and <= eps at theorem width)."""

from __future__ import annotations

import pytest

from stronglth.experiments import depth, looseness


@pytest.mark.parametrize("method", depth.METHODS)
def test_depth_cell_measures_nest(method):
    config = depth.DepthCell(method=method, depth=2, width=2, block_size=16, seed=3, samples=2000, steps=30)
    result = depth.cell(config)
    assert result == depth.cell(config)
    slack = 1e-9
    assert result["adversarial"] <= result["exact"] * (1 + slack) + 1e-15
    assert result["exact"] <= result["certified"] * (1 + slack) + 1e-15
    assert result["target_sup"] > 0 and len(result["layer_constants"]) == 2


@pytest.mark.parametrize("rule, d, widths", [("best", 2, (2, 1)), ("matching", 2, (2, 1)), ("best", 3, (3, 1))])
def test_looseness_cell_is_below_eps(rule, d, widths):
    config = looseness.LoosenessCell(rule=rule, eps=0.4, seed=1, d=d, widths=widths, samples=2000, steps=30, bab_seconds=2.0)
    r = looseness.cell(config)
    assert r["measured_by"] == ("exact" if d <= 2 else "adversarial and bab lower bound")
    assert r["upper_by"] == ("exact" if d <= 2 else "bab") and (d <= 2) == (r["bab_status"] is None)
    if r["failures"] == 0:
        assert r["certified"] <= 0.4
    assert r["adversarial"] <= r["measured"] * (1 + 1e-9) + 1e-15 <= r["certified"] * (1 + 1e-9) + 2e-15
    assert r["measured"] <= r["upper"] * (1 + 1e-9) + 1e-15  # the sup lies in [measured, upper]
    assert r["eps_over_measured"] == pytest.approx(0.4 / r["measured"])
    assert r["eps_over_upper"] == pytest.approx(0.4 / r["upper"])
    assert r["eps_over_upper"] <= r["eps_over_measured"] * (1 + 1e-9)


def test_depth_targets_have_the_configured_shape():
    assert depth.DepthCell(method="subsetsum", depth=3, width=4, block_size=8, seed=0).dims == (4, 4, 4, 1)
    assert depth.DepthCell(method="subsetsum", depth=1, width=4, block_size=8, seed=0).dims == (4, 1)
