"""``construction-comparison`` (docs/theory.md §16): every construction on the same targets, the report."""

from __future__ import annotations

import pytest

from stronglth import bounds, construct, random_target, sweep
from stronglth.errors import InvalidInputError
from stronglth.experiments import construction_comparison as exp
from stronglth.experiments.construction_comparison import CONSTRUCTIONS, ComparisonCell
from stronglth.verification import exact_error


@pytest.mark.parametrize("name", sorted(CONSTRUCTIONS))
def test_a_cell_measures_its_own_ticket(name):
    config = ComparisonCell(construction=name, eps=0.2, seed=1)
    row = exp.cell(config)
    spec = CONSTRUCTIONS[name]
    target = random_target(2, [4, 1], seed=0)
    ticket = construct(target, spec.method, eps=0.2, delta=0.05, seed=1, **spec.options)
    assert row["status"] == "ok" and row["parameters"] == ticket.network.parameter_count and row["nnz"] == ticket.nnz
    assert row["depth"] == ticket.network.depth == (3 if name == "burkholz" else 4)
    assert row["sup_error"] == exact_error(ticket, target).upper <= row["certified"] <= 0.2
    if row["apriori_parameters"] is not None:
        assert row["parameters"] <= row["apriori_parameters"]  # G stays under its paper's width


def test_a_cell_above_its_budget_is_not_run_and_says_so():
    row = exp.cell(ComparisonCell(construction="malach-matching", eps=0.01, seed=0, widths=(3, 3, 1), max_values=1e6))
    assert row["status"] == "too large" and row["planned_values"] > 1e6 and "sup_error" not in row
    dims = random_target(2, [3, 3, 1], seed=0).dims
    ks = bounds.theorem_block_sizes(dims, 0.01, 0.05, rule="matching")
    assert row["planned_parameters"] == sum(dims[i - 1] * k * (dims[i - 1] + dims[i]) for i, k in enumerate(ks, start=1))


def test_report_end_to_end(tmp_path):
    cells = [
        ComparisonCell(construction=name, eps=eps, seed=s, max_values=5e6 if name == "malach-matching" else 2e9)
        for name in ("malach-matching", "subsetsum", "burkholz")
        for eps in (0.4, 0.2, 0.1, 0.05)
        for s in (0, 1)
    ]
    sweep.run(exp.EXPERIMENT, out=tmp_path, configs=cells, progress=False)
    folder = tmp_path / exp.NAME
    text = (folder / "summary.md").read_text()
    assert "too large" in text and "| subsetsum |" in text and "| burkholz |" in text
    assert (folder / f"{exp.NAME}.png").stat().st_size > 0
    assert len((folder / f"{exp.NAME}.csv").read_text().splitlines()) == 1 + 3 * 4


def test_bad_cells():
    with pytest.raises(InvalidInputError, match="construction must be one of"):
        ComparisonCell(construction="gradient-descent", eps=0.1, seed=0)
    with pytest.raises(InvalidInputError, match="d <= 2"):
        ComparisonCell(construction="subsetsum", eps=0.1, seed=0, d=3)
