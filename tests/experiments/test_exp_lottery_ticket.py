"""lottery-ticket (stronglth/experiments/lottery_ticket.py): a micro grid through the sweep engine, the paper's
densities, seeded re-runs that reproduce the rows, and the report."""

from __future__ import annotations

import csv

import pytest

from stronglth import sweep
from stronglth.baselines.edge_popup import kept_count
from stronglth.errors import InvalidInputError
from stronglth.experiments import EXPERIMENTS, lottery_ticket

LT = lottery_ticket


def _micro(seed, family):
    return LT.LotteryTicketCell(
        seed=seed, family=family, dataset="digits", iterations=20, eval_every=10, rounds=(0, 1, 3), validation=200
    )


def test_grid_and_config_checks():
    assert EXPERIMENTS[LT.NAME] is LT.EXPERIMENT
    assert len(LT.grid()) == 6 and len(LT.grid(True)) == 10 and LT.grid()[0].rounds == (0, 3, 7, 12, 15, 18)
    with pytest.raises(InvalidInputError, match="family"):
        LT.LotteryTicketCell(seed=0, family="global")
    with pytest.raises(InvalidInputError, match="rounds"):
        LT.LotteryTicketCell(seed=0, family="iterative", rounds=(3, 7))


def test_micro_sweep_reproduces_its_rows_and_reports(tmp_path):
    configs = [_micro(s, f) for s in (0, 1) for f in LT.FAMILIES]
    summary = sweep.run(LT.EXPERIMENT, out=tmp_path / "a", configs=configs, progress=False)
    again = LT.cell(configs[0])
    rows = sweep.load_rows(tmp_path / "a" / LT.NAME)
    first = next(r for r in rows.values() if r.config == configs[0].to_dict())
    assert first.result == again  # seeded: a re-run gives the same row
    recs = LT.records(list(rows.values()))
    sizes = [64 * 300, 300 * 100, 100 * 10]
    for r in recs:
        j = r["round"]
        want = [kept_count(0.8**j, sizes[0]), kept_count(0.8**j, sizes[1]), kept_count(0.9**j, sizes[2])] if j else sizes
        if r["method"] != "random-mask" or j == 0:
            assert r["remaining"] == pytest.approx(100 * sum(want) / sum(sizes))
        assert 0 <= r["early_stop_test_accuracy"] <= 1 and r["early_stop_iteration"] in (0, 10, 20)
    assert {r["method"] for r in recs} == set(LT.METHODS)
    assert len(recs) == 2 * (3 + 2 * 2 + 3)  # per seed: IMP at 3 rounds, 2 controls at 2, one-shot at 3
    agg = LT.aggregate(recs)
    assert {(a["method"], a["round"]) for a in agg} == {(m, j) for m in LT.METHODS for j in (0, 1, 3)}
    assert all(a["seeds"] == 2 and a["accuracy_low"] <= a["accuracy"] <= a["accuracy_high"] for a in agg)
    directory = tmp_path / "a" / LT.NAME
    assert (directory / f"{LT.NAME}.png").read_bytes()[:4] == b"\x89PNG"
    with open(directory / f"{LT.NAME}.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == len(recs)
    assert "random-reinit" in (directory / "summary.md").read_text() and summary.computed == 4
