"""planted-tickets (stronglth/experiments/planted_tickets.py): micro cells through the sweep engine."""

from __future__ import annotations

import pytest

from stronglth import sweep
from stronglth.errors import InvalidInputError
from stronglth.experiments import EXPERIMENTS, planted_tickets

PT = planted_tickets


def test_grid_and_config_checks():
    assert EXPERIMENTS[PT.NAME] is PT.EXPERIMENT
    assert len(PT.grid()) == 2 * 3 * 9 * 5 and len(PT.grid(True)) == 5 * 3 * 9 * 7
    with pytest.raises(InvalidInputError, match="factor"):
        PT.PlantedTicketsCell(plant="planted", finder="imp", factor=0.5, seed=0)
    with pytest.raises(InvalidInputError, match="finder"):
        PT.PlantedTicketsCell(plant="planted", finder="obd", factor=1, seed=0)


def test_micro_sweep(tmp_path):
    configs = [
        PT.PlantedTicketsCell(plant=p, finder=f, factor=x, seed=0, iterations=20, mother_width=12, block_size=4)
        for p in ("subsetsum", "planted")
        for f in ("magnitude", "edge-popup", "synflow")
        for x in (1.0, 3.0)
    ]
    sweep.run(PT.EXPERIMENT, out=tmp_path, configs=configs, progress=False)
    rows = list(sweep.load_rows(tmp_path / PT.NAME).values())
    recs = PT.records(rows)
    assert len(recs) == len(configs)
    for r in recs:
        assert r["planted_loss"] >= 0 and r["mask_loss"] >= 0 and 0 <= r["precision"] <= 1 and 0 <= r["recall"] <= 1
        assert r["dense_loss"] >= 0
        if r["plant"] == "planted":
            assert r["planted_loss"] <= 1e-20  # the planted subnetwork computes the (unit-scaled) target exactly
        if r["factor"] == 1.0 and r["finder"] != "synflow":
            assert r["density"] == pytest.approx(r["planted_density"])
        assert (r["trained_loss"] is None) == (r["finder"] == "edge-popup")
    again = PT.cell(configs[0])
    assert next(r.result for r in rows if r.config == configs[0].to_dict()) == again
    summary = PT.summary_rows(recs)
    assert len(summary) == 2 * 3
    text = (tmp_path / PT.NAME / "summary.md").read_text()
    assert "matches planted from" in text and (tmp_path / PT.NAME / f"{PT.NAME}.png").stat().st_size > 0
