"""experiments/edge_popup.py: pure config -> rows, and CSV + PNG + summary named with "edge"."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "experiments" / "edge_popup.py"


@pytest.fixture(scope="module")
def exp():
    spec = importlib.util.spec_from_file_location("edge_popup_experiments", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_construction_vs_edge_popup_micro(exp, tmp_path):
    config = exp.CVE_SMALL | {
        "d": 2,
        "widths": [2, 1],
        "block_sizes": [4, 8],
        "densities": [0.5],
        "unscaled_densities": [0.5],
        "steps": 10,
        "samples": 500,
    }
    rows = exp.construction_vs_edge_popup(config, progress=False)
    assert len(rows) == 2 * 4  # per k: Malach, one density, the construction's densities, one unscaled
    for k in (4, 8):
        rk = [r for r in rows if r["block_size"] == k]
        assert len({r["g_parameters"] for r in rk}) == 1  # the same G for every method
        malach = next(r for r in rk if r["variant"] == "malach")
        matched = next(r for r in rk if r["variant"].startswith("edge-popup @"))
        assert matched["nnz"] == malach["nnz"]  # edge-popup keeps exactly the construction's counts
        assert all(r["sampled_error"] <= r["adversarial_error"] + 1e-12 for r in rk)
    paths = exp.write_results(exp.CVE_NAME, rows, config, tmp_path)
    assert all("edge" in p.name and p.stat().st_size > 0 for p in paths)
    with open(paths[0]) as f:
        assert len(list(csv.DictReader(f))) == len(rows)
    assert "| 8 |" in paths[2].read_text()


def test_classification_micro(exp, tmp_path):
    config = exp.CLS_SMALL | {
        "datasets": ["digits"],
        "epochs": 1,
        "densities": [0.5],
        "widths": [16],
        "fixed_widths": [16, 32],
        "fixed_kept": 1000,
    }  # width 16 has 1,440 weights, 32 has 3,392
    rows = exp.edge_popup_classification(config, progress=False)
    assert [r["sweep"] for r in rows] == ["density", "density", "width", "width", "fixed_kept", "fixed_kept"]
    fixed = [r for r in rows if r["sweep"] == "fixed_kept"]
    assert all(abs(r["kept"] - 1000) <= 3 for r in fixed)  # round() per layer
    assert fixed[0]["density"] > fixed[1]["density"]
    paths = exp.write_results(exp.CLS_NAME, rows, config, tmp_path)
    assert all("edge" in p.name for p in paths) and "## digits" in paths[2].read_text()
    with pytest.raises(ValueError, match="edge"):
        exp.write_results("other", rows, config, tmp_path)
