"""`stronglth construct --rescale`: a target outside the assumptions, approximated at its own scale."""

from __future__ import annotations

import numpy as np
import pytest

from stronglth import TargetNetwork, Ticket
from stronglth.cli import main


@pytest.fixture
def trained_like(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "F.npz"
    np.savez(path, W_1=rng.normal(size=(6, 3)) * 3, W_2=rng.normal(size=(2, 6)) * 3)
    return path


def test_without_rescale_the_assumption_error_says_what_to_do(trained_like, capsys):
    assert main(["construct", "--target", str(trained_like), "--method", "subsetsum", "--eps", "0.1", "--quiet"]) == 2
    assert "rescale" in capsys.readouterr().err


def test_rescale_prints_c_and_writes_a_ticket_of_F_itself(trained_like, tmp_path, capsys):
    out = tmp_path / "t.npz"
    args = ["construct", "--target", str(trained_like), "--method", "subsetsum", "--eps", "0.1", "--rescale"]
    assert main([*args, "--samples", "500", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    ticket = Ticket.load(out)
    F = TargetNetwork([np.load(trained_like)[k] for k in ("W_1", "W_2")])
    c = F.scale_to_assumptions()[1]
    assert ticket.output_scale == c and f"{c:.6g}" in printed and "output scale c" in printed
    x = np.random.default_rng(1).normal(size=(2000, 3))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    assert float(np.linalg.norm(ticket.forward(x) - F.forward(x), axis=1).max()) <= ticket.certified_error <= 0.1
