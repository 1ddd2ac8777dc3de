"""``fixed-size-subsets`` (Natale et al. 2024; docs/theory.md §5.1): cells, the bound's shape, the report."""

from __future__ import annotations

import math

import pytest

from stronglth import sweep
from stronglth.errors import InvalidInputError
from stronglth.experiments import fixed_size_subsets as exp
from stronglth.experiments.fixed_size_subsets import FixedSizeCell, natale_width


def test_a_fixed_size_ticket_uses_exactly_s_units_per_event():
    row = exp.cell(FixedSizeCell(variant="s3", k=40, seed=0))
    sparsest = exp.cell(FixedSizeCell(variant="sparsest", k=40, seed=0))
    least = exp.cell(FixedSizeCell(variant="least_error", k=40, seed=0))
    assert row["success"] and sparsest["success"] and least["success"]
    assert row["g_parameters"] == sparsest["g_parameters"] == least["g_parameters"]
    assert row["density"] == row["nnz"] / row["g_parameters"]
    # the 6-6-2 target: 6*6 layer-1 weights with two sides, 2*6 layer-2 weights with one: 84 events of 3 units
    # (second-layer weights), plus each used unit's one first-layer weight
    events = 6 * 6 * 2 + 2 * 6
    assert 3 * events < row["nnz"] <= 3 * events * 2
    assert sparsest["nnz"] < least["nnz"]  # the sparsest keeps no more than the closest, here far fewer


@pytest.mark.parametrize("size, eta, constant", [(1, 0.01, 0.05), (3, 0.02, 0.1), (8, 0.001, 1.0)])
def test_natale_width_is_the_least_n_meeting_the_bound(size, eta, constant):
    n = natale_width(size, eta, constant)

    def need(m: float) -> float:
        p = size / m
        return constant * math.log2(size / eta) ** 2 / (-p * math.log2(p) - (1 - p) * math.log2(1 - p))

    assert n >= 2 * size and n >= need(n) * (1 - 1e-9)
    if n > 2 * size:
        assert need(n * (1 - 1e-6)) > n * (1 - 1e-6)
    assert natale_width(size, eta, constant * 2) >= n  # more constant, more width


def test_fitted_constant_recovers_a_planted_one():
    points = [(s, natale_width(s, 0.01, 0.2)) for s in (1, 2, 4, 8)]
    assert exp._fit_constant(points, 0.01) == pytest.approx(0.2, rel=1e-3)


def test_report_end_to_end(tmp_path):
    cells = [FixedSizeCell(variant=v, k=k, seed=s) for v in ("s2", "sparsest") for k in (24, 40) for s in (0, 1)]
    sweep.run(exp.EXPERIMENT, out=tmp_path, configs=cells, progress=False)
    folder = tmp_path / exp.NAME
    text = (folder / "summary.md").read_text()
    assert "| s2 |" in text and "| sparsest |" in text and "| s8 | none up to k = 40" in text
    assert (folder / f"{exp.NAME}.png").stat().st_size > 0
    assert len((folder / f"{exp.NAME}.csv").read_text().splitlines()) == 1 + 4


def test_bad_cells():
    with pytest.raises(InvalidInputError, match="variant"):
        FixedSizeCell(variant="s5", k=8, seed=0)
    with pytest.raises(InvalidInputError, match="k <= 512"):
        FixedSizeCell(variant="s2", k=0, seed=0)
