"""construction-vs-edge-popup and edge-popup-classification (stronglth/experiments/): tiny grids through
the sweep engine, then the rows and the report (CSV + PNG + summary.md)."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from stronglth import sweep
from stronglth.errors import InvalidInputError
from stronglth.experiments import EXPERIMENTS, construction_vs_edge_popup, edge_popup_classification

CVE = construction_vs_edge_popup
CLS = edge_popup_classification


def _csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_registered_and_torch_free_import():
    names = list(EXPERIMENTS)
    assert names.index("looseness") < names.index(CVE.NAME) < names.index(CLS.NAME) < names.index("toy")
    assert EXPERIMENTS[CVE.NAME] is CVE.EXPERIMENT and EXPERIMENTS[CLS.NAME] is CLS.EXPERIMENT
    code = "import sys, stronglth.experiments; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_grids():
    assert len(CVE.grid()) == 18 and len(CVE.grid(True)) == 7 * (1 + 3 * (7 + 1 + 3))
    small = CLS.grid()
    assert len(small) == len(set(small)) == 2 * (7 + 1 + 2 * 5 - 2 + 5)  # width 256 at density 0.5 and dense: in two sweeps
    assert len(CLS.grid(True)) == 2 * 3 * (13 + 1 + 2 * 7 - 2 + 6)
    with pytest.raises(InvalidInputError, match="requested_density"):
        CVE.ConstructionVsEdgePopupCell(block_size=4, variant="edge-popup", lr=1e-3)
    with pytest.raises(InvalidInputError, match="lr"):
        CVE.ConstructionVsEdgePopupCell(block_size=4, variant="malach", lr=1e-3)
    with pytest.raises(InvalidInputError, match="exactly one"):
        CLS.EdgePopupClassificationCell(
            dataset="digits", seed=0, width=16, mode="edge-popup", requested_density=0.5, fixed_kept=9
        )


def test_construction_vs_edge_popup_micro(tmp_path):
    def make(k, variant, density=None, lr=1e-3):
        return CVE.ConstructionVsEdgePopupCell(
            block_size=k, variant=variant, requested_density=density, lr=lr, d=2, widths=(2, 1), steps=10, samples=500
        )

    configs = []
    for k in (4, 8):
        configs += [make(k, "malach", lr=None), make(k, "edge-popup", 0.5), make(k, "edge-popup-matched")]
        configs.append(make(k, "edge-popup-unscaled", 0.5))
    configs.append(make(8, "edge-popup", 0.5, lr=3e-3))
    summary = sweep.run(CVE.EXPERIMENT, out=tmp_path, configs=configs, progress=False)
    assert summary.computed == len(configs) == 2 * 4 + 1
    rows = list(sweep.load_rows(tmp_path / CVE.NAME).values())
    assert all("seconds" not in r.result for r in rows)  # a pure function of the config: the row records the time
    records = CVE.records(rows)
    assert len(records) == 2 * 4  # per k: Malach, one density (the better of two lrs for k = 8), matched, unscaled
    for k in (4, 8):
        rk = [r for r in records if r["block_size"] == k]
        assert len({r["g_parameters"] for r in rk}) == 1  # the same G for every method
        malach = next(r for r in rk if r["variant"] == "malach")
        matched = next(r for r in rk if r["variant"].startswith("edge-popup @"))
        assert matched["nnz"] == malach["nnz"]  # edge-popup keeps exactly the construction's counts
        assert all(r["sampled_error"] <= r["adversarial_error"] + 1e-12 for r in rk)
    pair = [r for r in rows if r.config["block_size"] == 8 and r.config["variant"] == "edge-popup"]
    best = min(pair, key=lambda r: r.result["train_mse"])
    chosen = next(r for r in records if r["block_size"] == 8 and r["variant"] == "edge-popup")
    assert chosen["lr"] == best.config["lr"] and chosen["lrs"] == [1e-3, 3e-3]
    directory = tmp_path / CVE.NAME
    paths = [directory / f"{CVE.NAME}.csv", directory / f"{CVE.NAME}.png", directory / "summary.md"]
    assert set(paths) <= set(summary.report_files) and all(p.stat().st_size > 0 for p in paths)
    assert paths[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(_csv(paths[0])) == len(records) and len(_csv(directory / "cells.csv")) == len(configs)
    text = paths[2].read_text()
    assert text.startswith(f"# {CVE.NAME}") and "| 8 |" in text and f"({CVE.NAME}.png)" in text
    assert CVE.NAME in (tmp_path / "README.md").read_text()


def test_classification_micro(tmp_path):
    common = {"dataset": "digits", "seed": 0, "epochs": 1}
    dense = {"mode": "dense", "requested_density": 1.0, "lr": 0.05}
    configs = [
        CLS.EdgePopupClassificationCell(width=256, mode="edge-popup", requested_density=0.5, **common),
        CLS.EdgePopupClassificationCell(width=256, **dense, **common),
        CLS.EdgePopupClassificationCell(width=16, mode="edge-popup", requested_density=0.5, **common),
        CLS.EdgePopupClassificationCell(width=16, **dense, **common),
    ]
    configs += [CLS.EdgePopupClassificationCell(width=w, mode="edge-popup", fixed_kept=1000, **common) for w in (16, 32)]
    configs.append(CLS.EdgePopupClassificationCell(width=8, mode="edge-popup", fixed_kept=1000, **common))  # 8 has 656 weights
    # width 16 has 1,440 weights, 32 has 3,392
    summary = sweep.run(CLS.EXPERIMENT, out=tmp_path, configs=configs, progress=False)
    assert summary.computed == len(configs)
    rows = list(sweep.load_rows(tmp_path / CLS.NAME).values())
    assert all("seconds" not in r.result for r in rows)
    records = CLS.records(rows)
    assert [r["sweep"] for r in records] == ["density", "density", "width", "width", "width", "width", "fixed_kept", "fixed_kept"]
    assert [r["width"] for r in records if r["sweep"] == "width"] == [16, 16, 256, 256]
    fixed = [r for r in records if r["sweep"] == "fixed_kept"]
    assert all(abs(r["kept"] - 1000) <= 3 for r in fixed)  # round() per layer
    assert fixed[0]["density"] > fixed[1]["density"]
    assert fixed[0]["requested_density"] == pytest.approx(1000 / 1440)
    assert next(r for r in rows if r.config["width"] == 8).result == {"skipped": True, "weights": 656}
    directory = tmp_path / CLS.NAME
    paths = [directory / f"{CLS.NAME}.csv", directory / f"{CLS.NAME}.png", directory / "summary.md"]
    assert set(paths) <= set(summary.report_files) and all(p.stat().st_size > 0 for p in paths)
    assert len(_csv(paths[0])) == len(records)
    text = paths[2].read_text()
    assert text.startswith(f"# {CLS.NAME}") and "## digits" in text and "(1 skipped" in text
    assert "dense, trained (width 256)" in text and "about 1,000 kept weights" in text
