"""``stronglth edge-popup``: tables, progress off with --quiet, one line and exit 2 on bad input."""

from __future__ import annotations

import argparse
import subprocess
import sys

import torch

from stronglth.baselines.models import load_model
from stronglth.cli.edge_popup import add_parser, main


def test_classify_digits_prints_a_table_and_saves(tmp_path, capsys):
    out = tmp_path / "m.pt"
    code = main(
        [
            "classify",
            "--data",
            "digits",
            "--widths",
            "32",
            "--epochs",
            "1",
            "--density",
            "0.5",
            "--quiet",
            "--threads",
            "1",
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "test %" in text and "edge-popup" in text and "chance: 10.0%" in text
    model = load_model(out)
    assert model.config["density"] == 0.5 and model(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


def test_approximate_with_comparison(capsys):
    code = main(
        [
            "approximate",
            "--d",
            "2",
            "--widths",
            "2",
            "1",
            "--block-size",
            "6",
            "--density",
            "0.3",
            "--steps",
            "20",
            "--samples",
            "500",
            "--compare",
            "--quiet",
            "--threads",
            "1",
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    for word in ("malach", "edge-popup", "@ construction's", "certified", "zero network"):
        assert word in text


def test_bad_input_is_one_line_and_exit_2(capsys):
    for args in (["classify", "--density", "1.5"], ["classify", "--data", "mnist"], ["approximate", "--block-size", "4", "4"]):
        assert main([*args, "--quiet"]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.count("\n") == 1 and captured.err.startswith("stronglth: error:")


def test_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "stronglth.cli.edge_popup", "classify", "--density", "0", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "fraction of weights kept" in result.stderr and result.stdout == ""


def test_add_parser_registers_edge_popup():
    parser = argparse.ArgumentParser(prog="stronglth")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(["edge-popup", "classify", "--density", "0.1", "0.2", "--arch", "conv4"])
    assert args.command == "edge-popup" and args.task == "classify" and args.density == [0.1, 0.2] and callable(args.run)


def test_registering_the_command_does_not_import_torch():
    code = "import sys, stronglth.cli.edge_popup; assert 'torch' not in sys.modules, 'torch imported'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode == 0
