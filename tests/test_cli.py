"""The `stronglth` command: one line and exit 2 on bad input, no traceback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from stronglth import RandomNetwork, Ticket
from stronglth.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stronglth", *args], capture_output=True, text=True, timeout=300)


def test_demo_runs():
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    assert "random network G" in result.stdout


def test_audit_ok_and_tampered(tmp_path, capsys):
    network = RandomNetwork([(8, 2), (1, 8)], seed=4)
    ticket = Ticket.from_positions(network, [([0, 5], [0, 1]), ([0, 0], [0, 5])])
    ticket.save(tmp_path / "t.npz")
    assert main(["audit", str(tmp_path / "t.npz")]) == 0
    assert "true subnetwork" in capsys.readouterr().out
    with np.load(tmp_path / "t.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["vals_1"] = arrays["vals_1"] + 1e-9
    with open(tmp_path / "bad.npz", "wb") as f:
        np.savez(f, **arrays)
    result = run_cli("audit", str(tmp_path / "bad.npz"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("stronglth: error:") and "G's" in result.stderr


def test_bad_arguments_one_line_exit_2():
    for args in (["bogus"], ["audit"], ["demo", "--seed", "x"]):
        result = run_cli(*args)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
