"""The command line's target options (stronglth/cli/_target.py): ``--negative-slope A``, the random
target's leaky ReLU ``max(t, A t)`` (docs/theory.md §14.6), in ``construct`` and ``edge-popup approximate``."""

from __future__ import annotations

import numpy as np
import pytest

from stronglth import random_target
from stronglth.cli import build_parser, main
from stronglth.cli._target import target_from_args

COMMANDS = {
    "construct": ["construct", "--eps", "0.2"],
    "edge-popup": ["edge-popup", "approximate", "--block-size", "4", "--density", "0.5"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("slope", [None, "0", "0.2", "0.999"])
def test_the_random_target_has_the_slope_and_the_weights_of_the_relu_target(command, slope):
    flags = [] if slope is None else ["--negative-slope", slope]
    args = build_parser().parse_args(COMMANDS[command] + ["--d", "2", "--widths", "3", "1", "--target-seed", "4", *flags])
    target = target_from_args(args)
    assert target.negative_slope == (0.0 if slope is None else float(slope))
    relu = random_target(2, [3, 1], seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(target.weights, relu.weights, strict=True))


def test_a_target_file_brings_its_own_slope(tmp_path):
    weights = random_target(2, [3, 1], seed=0).weights
    np.savez(tmp_path / "F.npz", W_1=weights[0], W_2=weights[1], negative_slope=0.3)
    args = build_parser().parse_args(COMMANDS["construct"] + ["--target", str(tmp_path / "F.npz")])
    assert target_from_args(args).negative_slope == 0.3


def one_error_line(capsys, argv: list[str], contains: str) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusals (not a number)
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert captured.err.count("\n") == 1 and captured.err.startswith("stronglth: error:"), captured.err
    assert "Traceback" not in captured.err and captured.out == "" and contains in captured.err, captured.err


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(
    "value, contains",
    [
        ("1", "--negative-slope must satisfy 0 <= --negative-slope < 1"),
        ("1.5", "got 1.5"),
        ("-0.1", "got -0.1"),
        ("nan", "got nan"),
        ("inf", "got inf"),
        ("abc", "argument --negative-slope: invalid float value: 'abc'"),
    ],
)
def test_a_bad_slope_is_one_error_line(tmp_path, capsys, command, value, contains):
    one_error_line(capsys, COMMANDS[command] + ["--d", "2", "--widths", "3", "1", "--negative-slope", value], contains)
    assert list(tmp_path.iterdir()) == []


def test_a_slope_with_a_target_file_is_refused(tmp_path, capsys):
    weights = random_target(2, [1], seed=0).weights
    np.savez(tmp_path / "F.npz", W_1=weights[0])
    argv = COMMANDS["construct"] + ["--target", str(tmp_path / "F.npz"), "--negative-slope", "0.1"]
    one_error_line(capsys, argv, "a --target file stores its own")
    np.savez(tmp_path / "bad.npz", W_1=weights[0], negative_slope=1.0)  # the file's own slope is checked too
    one_error_line(capsys, COMMANDS["construct"] + ["--target", str(tmp_path / "bad.npz")], "negative_slope must satisfy")


def test_construct_burkholz_builds_a_leaky_g_for_the_leaky_target_and_saves_format_3(tmp_path, capsys):
    from stronglth import Ticket

    out = tmp_path / "t.npz"
    argv = ["construct", "--method", "burkholz", "--negative-slope", "0.2", "--d", "2", "--widths", "3", "1", "--eps", "0.5"]
    assert main([*argv, "--samples", "100", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    ticket = Ticket.load(out)  # audits, the certified bound included
    assert ticket.network.negative_slope == 0.2 and ticket.target.negative_slope == 0.2
    assert ticket.target.weights[0].tobytes() == random_target(2, [3, 1], seed=0).weights[0].tobytes()


def test_the_tables_name_a_leaky_activation(tmp_path, capsys):
    out = tmp_path / "t.npz"
    argv = ["construct", "--method", "burkholz", "--negative-slope", "0.2", "--d", "2", "--widths", "3", "1", "--eps", "0.5"]
    assert main([*argv, "--samples", "100", "--out", str(out)]) == 0
    assert "leaky ReLU max(t, a t), a = 0.2" in capsys.readouterr().out
    assert main(["audit", str(out)]) == 0
    assert "leaky ReLU max(t, a t), a = 0.2" in capsys.readouterr().out
    assert main(["construct", "--d", "2", "--widths", "3", "1", "--eps", "0.5", "--samples", "100"]) == 0
    assert "activation" not in capsys.readouterr().out  # a ReLU ticket's table is as before


def test_audit_names_the_targets_activation_when_only_the_target_is_leaky(tmp_path, capsys):
    from stronglth import RandomNetwork, Ticket

    g = RandomNetwork([(4, 2), (1, 4)], seed=0)
    ticket = Ticket.from_positions(g, [([0], [0]), ([0], [0])], target=random_target(2, [1], seed=0, negative_slope=0.3))
    path = ticket.save(tmp_path / "t.npz")
    assert main(["audit", str(path)]) == 0
    assert "ReLU (target: a = 0.3)" in capsys.readouterr().out
