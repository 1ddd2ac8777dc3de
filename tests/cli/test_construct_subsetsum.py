"""`stronglth construct --method subsetsum --objective / --subset-size / --max-size` (docs/theory.md §5.1)."""

from __future__ import annotations

import pytest

from stronglth import Ticket
from stronglth.cli import main

BASE = ["construct", "--method", "subsetsum", "--d", "3", "--widths", "4", "2", "--seed", "3", "--samples", "200", "--quiet"]


@pytest.mark.parametrize(
    "flags, objective, subset_size",
    [([], "sparsest", None), (["--objective", "least_error"], "least_error", None), (["--subset-size", "2"], "sparsest", 2)],
)
def test_flags_reach_the_construction(tmp_path, capsys, flags, objective, subset_size):
    out = tmp_path / "t.npz"
    assert main([*BASE, "--eta", "0.05", *flags, "--out", str(out)]) == 0
    assert "certified error" in capsys.readouterr().out
    ticket = Ticket.load(out)
    assert (ticket.meta["objective"], ticket.meta["subset_size"]) == (objective, subset_size)


def test_sparsest_keeps_fewer_weights_than_least_error(tmp_path):
    for objective in ("sparsest", "least_error"):
        assert main([*BASE, "--eta", "0.05", "--objective", objective, "--out", str(tmp_path / f"{objective}.npz")]) == 0
    assert Ticket.load(tmp_path / "sparsest.npz").nnz < Ticket.load(tmp_path / "least_error.npz").nnz


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--method", "malach", "--eps", "0.3", "--subset-size", "2"], "--subset-size is for --method subsetsum"),
        (["--method", "malach", "--eps", "0.3", "--objective", "sparsest"], "--objective is for --method subsetsum"),
        (["--eta", "0.05", "--subset-size", "2", "--max-size", "2"], "at most one of subset_size"),
        (["--eta", "0.05", "--subset-size", "0"], "subset_size"),
        (["--eta", "0.05", "--subset-size", "41"], "max_candidates"),
        (["--eta", "0.001", "--subset-size", "1", "--block-sizes", "4,4"], "subset_size = 1"),
    ],
)
def test_bad_combinations_are_one_line_errors(capsys, flags, message):
    args = ["construct", "--d", "3", "--widths", "4", "2", "--quiet", *flags]
    if "--method" not in flags:
        args[1:1] = ["--method", "subsetsum"]
    assert main(args) == 2
    lines = capsys.readouterr().err.splitlines()  # (--quiet: a plan line first once the arguments are valid)
    assert message in lines[-1] and lines[-1].startswith("stronglth: error:") and len(lines) <= 2
