"""early-bird (stronglth/experiments/early_bird.py): a micro cell, the drawn epochs against the rule, the report."""

from __future__ import annotations

import pytest

from stronglth import sweep
from stronglth.errors import InvalidInputError
from stronglth.experiments import EXPERIMENTS, early_bird
from stronglth.pruning.early_bird import first_stable_epoch

EB = early_bird


def test_grid_and_config_checks():
    assert EXPERIMENTS[EB.NAME] is EB.EXPERIMENT
    assert len(EB.grid()) == 6 and len(EB.grid(True)) == 15
    with pytest.raises(InvalidInputError, match="density"):
        EB.EarlyBirdCell(seed=0, density=1.0)
    with pytest.raises(InvalidInputError, match="settings"):
        EB.EarlyBirdCell(seed=0, density=0.5, epochs=5)


def test_micro_sweep(tmp_path):
    config = EB.EarlyBirdCell(seed=0, density=0.5, epochs=6, width=0.1, thresholds=(1.0, 1e-9))
    sweep.run(EB.EXPERIMENT, out=tmp_path, configs=[config], progress=False)
    (row,) = sweep.load_rows(tmp_path / EB.NAME).values()
    result = row.result
    assert len(result["distances"]) == 5 and len(result["matrix"]) == 6
    assert [result["matrix"][i][i + 1] for i in range(5)] == pytest.approx(result["distances"])
    tickets = {(t["ticket"], t["threshold"]): t for t in result["tickets"]}
    assert tickets[("early-bird", 1.0)]["drawn_epoch"] == 6 == first_stable_epoch(result["distances"], threshold=1.0)
    assert tickets[("early-bird", 1e-9)]["drawn_epoch"] is None  # the masks never stop moving by 1e-9
    assert (
        tickets[("full-training", None)]["search_epochs"] == 6
        and tickets[("imp", None)]["search_epochs"] == 6 * result["imp_rounds"]
    )
    recs = EB.records([row])
    assert {r["ticket"] for r in recs} == {"early-bird", "full-training", "imp", "dense"}
    assert "epoch drawn" in (tmp_path / EB.NAME / "summary.md").read_text()
