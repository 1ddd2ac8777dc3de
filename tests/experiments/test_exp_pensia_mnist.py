"""``pensia-mnist`` (Pensia et al. 2020; docs/theory.md §5): a small trained target end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stronglth import sweep
from stronglth.errors import InvalidInputError
from stronglth.experiments import pensia_mnist as exp
from stronglth.experiments.pensia_mnist import PensiaMnistCell, train_target

SMALL = {"hidden": 12, "epochs": 1}


def test_training_is_reproducible_and_leaves_torch_state_alone():
    data = exp._data("mnist-sample", None)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    threads = torch.get_num_threads()
    first = train_target(data, 12, epochs=1, seed=0)
    assert torch.equal(torch.rand(3), expected) and torch.get_num_threads() == threads
    second = train_target(data, 12, epochs=1, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(first.weights, second.weights, strict=True))
    assert first.dims == (784, 12, 10)
    assert not first.is_admissible()  # trained weights break the assumptions: the cell scales them


@pytest.mark.parametrize("objective", ["sparsest", "least_error"])
def test_cell_every_weight_within_eta_in_the_trained_scale(objective):
    row = exp.cell(PensiaMnistCell(objective=objective, eta=0.05, **SMALL))
    assert row["failures"] == 0
    assert row["largest_weight_error"] <= 0.05 * (1 + 1e-12)
    assert 0 <= row["agreement"] <= 1 and row["target_accuracy"] > 0.5
    k1, k2 = row["block_sizes"]
    assert row["g_weights_their_count"] == k1 * 784 * 12 + k2 * 12 * 10
    assert row["kept_per_weight"] == row["kept_second_layer"] / row["target_weights"]
    assert row["certified_error_ball"] >= 0 and row["scale"] == pytest.approx(np.prod(row["scales"]))


def test_sparsest_keeps_fewer_weights_and_report(tmp_path):
    cells = [PensiaMnistCell(objective=o, eta=0.01, **SMALL) for o in ("sparsest", "least_error")]
    sweep.run(exp.EXPERIMENT, out=tmp_path, configs=cells, progress=False)
    rows = {(r["objective"], r["eta"]): r for r in _csv(tmp_path / exp.NAME / f"{exp.NAME}.csv")}
    assert int(rows[("sparsest", "0.01")]["kept_second_layer"]) < int(rows[("least_error", "0.01")]["kept_second_layer"])
    text = (tmp_path / exp.NAME / "summary.md").read_text()
    assert "Pensia et al. 2020 (published" in text and "stronglth, sparsest, eta 0.01" in text
    assert "left out of the default grid" not in text  # the least-error cell at 0.01 is there
    assert (tmp_path / exp.NAME / f"{exp.NAME}.png").stat().st_size > 0


def _csv(path):
    import csv

    with open(path) as f:
        return list(csv.DictReader(f))


def test_bad_cells():
    with pytest.raises(InvalidInputError, match="objective"):
        PensiaMnistCell(objective="fewest", eta=0.01)
    with pytest.raises(InvalidInputError, match="data_dir"):
        PensiaMnistCell(objective="sparsest", eta=0.01, dataset="mnist")
    assert len(exp.grid()) == 7 and all(c.dataset == "mnist-sample" for c in exp.grid())


def test_the_summary_says_why_least_error_at_001_is_missing():
    text = exp._least_error_plan([{"objective": "sparsest", "eta": 0.01, "block_sizes": "66 48", "hidden": 500}])
    assert "left out of the default grid" in text and "[66, 48]" in text and "subset sums" in text


def test_full_mnist_from_idx_files(tmp_path, monkeypatch):
    from stronglth.baselines.data import write_idx

    rng = np.random.default_rng(0)
    for prefix, n in (("train", 60), ("t10k", 20)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n, dtype=np.uint8))
    row = exp.cell(PensiaMnistCell(objective="sparsest", eta=0.05, dataset="mnist", data_dir=str(tmp_path), hidden=4, epochs=1))
    assert row["failures"] == 0 and row["largest_weight_error"] <= 0.05 * (1 + 1e-12)
    monkeypatch.setenv(exp.DATA_DIR_VARIABLE, str(tmp_path))
    assert {c.dataset for c in exp.grid(full=True)} == {"mnist-sample", "mnist"}
