"""``stronglth prune``: a finder from the command line, its table, its file, and one-line errors."""

from __future__ import annotations

import torch

from stronglth.baselines.edge_popup import kept_count
from stronglth.cli import main


def test_prune_prints_the_kept_counts_and_writes_the_masks(tmp_path, capsys):
    out = tmp_path / "masks.pt"
    argv = ["prune", "magnitude", "--data", "digits", "--width", "0.1", "--density", "0.3", "--iterations", "5"]
    code = main([*argv, "--out", str(out), "--quiet"])
    text = capsys.readouterr().out
    assert code == 0 and "test accuracy" in text and f"{kept_count(0.3, 64 * 30):,}" in text
    blob = torch.load(out, weights_only=True)
    assert blob["method"] == "magnitude"
    assert [int(m.sum()) for m in blob["masks"]] == [kept_count(0.3, n) for n in (64 * 30, 30 * 10, 10 * 10)]


def test_prune_refuses_bad_input_in_one_line(capsys):
    assert main(["prune", "obd", "--density", "0.3"]) == 2
    assert "unknown pruning method" in capsys.readouterr().err
    assert main(["prune", "random", "--density", "1.5"]) == 2
    assert "fraction of weights kept" in capsys.readouterr().err
    assert main(["prune", "random", "--data", "mnist1d", "--model", "conv2", "--density", "0.5", "--iterations", "1"]) == 2
    assert "square images" in capsys.readouterr().err
