"""The `stronglth` command: one line and exit 2 on bad input, no traceback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from stronglth import RandomNetwork, Ticket
from stronglth.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stronglth", *args], capture_output=True, text=True, timeout=300)


def test_demo_runs():
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("certified error") == 3  # Malach best, Malach matching, subset sum
    assert "narrower" in result.stdout
    assert "2,722,294,464" in result.stdout  # the matching rule at theorem width: G of 2.7e9 weights
    assert "audited" in result.stdout


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


def test_construct_writes_a_ticket_that_loads_and_audits_in_a_fresh_process(tmp_path):
    out = tmp_path / "ticket.npz"
    result = run_cli(
        "construct", "--eps", "0.2", "--d", "3", "--widths", "4", "2", "--seed", "7", "--out", str(out), "--samples", "1000"
    )
    assert result.returncode == 0, result.stderr
    for row in ("G widths", "G parameters", "ticket nnz", "certified error", "sampled error", "time"):
        assert row in result.stdout
    audited = run_cli("audit", str(out))
    assert audited.returncode == 0 and "true subnetwork" in audited.stdout
    code = f"from stronglth import Ticket; t = Ticket.load({str(out)!r}); print(t.meta['method'], t.certified_error <= 0.2)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split() == ["malach", "True"]


def test_construct_from_a_target_file(tmp_path):
    from stronglth import random_target

    target = random_target(2, [3, 1], seed=1)
    np.savez(tmp_path / "target.npz", W_1=target.weights[0], W_2=target.weights[1])
    result = run_cli("construct", "--target", str(tmp_path / "target.npz"), "--eps", "0.3", "--samples", "100")
    assert result.returncode == 0, result.stderr
    assert "2 x 3 x 1" in result.stdout


def test_construct_errors_are_one_line(tmp_path):
    cases = [
        ("construct", "--eps", "0.1", "--block-sizes", "3,3,3"),  # too narrow: TicketNotFound
        ("construct", "--eps", "-1"),
        ("construct", "--eps", "0.1", "--target", str(tmp_path / "absent.npz")),
        ("construct", "--eps", "0.1", "--out", str(tmp_path / "t.txt")),
        ("construct", "--eps", "0.1", "--block-sizes", "3,x"),
    ]
    for args in cases:
        result = run_cli(*args)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert "width too small: layer 1" in run_cli(*cases[0]).stderr
    assert list(tmp_path.iterdir()) == []


def test_demo_shows_one_number_per_measure_per_ticket():
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    for measure in ("certified error", "sampled error", "adversarial error"):
        assert result.stdout.count(measure) == 3, measure  # three tickets, each measure once
    assert "verified:" not in result.stdout and "l2 norm of the output difference" in result.stdout


def _verify_ticket(tmp_path, d: int = 3) -> str:
    from stronglth import construct, random_target

    path = tmp_path / "t.npz"
    construct(random_target(d, [8, 8, 1], seed=0), eps=0.1, seed=0).save(path)
    return str(path)


def test_verify_says_inconclusive_as_such_and_json_is_strict(tmp_path):
    import json

    path = _verify_ticket(tmp_path)
    table = run_cli("verify", path, "--exact", "--time-limit", "1e-9", "--samples", "500")
    assert table.returncode == 0, table.stderr
    assert "inconclusive" in table.stdout and "NO" not in table.stdout
    assert "yes: sampled <= adversarial, and every lower bound (sampled, adversarial, exact lower)" in table.stdout
    out = run_cli("verify", path, "--exact", "--time-limit", "1e-9", "--samples", "500", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout, parse_constant=lambda name: pytest.fail(f"not strict JSON: {name}"))
    assert data["exact_status"] == "inconclusive" and data["exact"] is None
    # branch-and-bound (the dispatcher's choice here) is anytime: its upper bound at the time limit is a true bound
    assert data["exact_upper"] is None or data["exact_upper"] >= data["exact_lower"]
    assert data["norm"] == "l2" and data["nested"] is True


def test_verify_without_exact_names_what_was_not_computed(tmp_path):
    result = run_cli("verify", _verify_ticket(tmp_path), "--samples", "500", "--norm", "linf")
    assert result.returncode == 0, result.stderr
    assert "yes: sampled <= adversarial, and every lower bound (sampled, adversarial) <= every upper bound (certified)" in (
        result.stdout
    )
    assert "linf of the output difference" in result.stdout


def test_audit_recomputes_the_certified_bound_and_refuses_a_smaller_claim(tmp_path):
    import json

    path = _verify_ticket(tmp_path, d=2)
    ok = run_cli("audit", path)
    assert ok.returncode == 0 and "recomputed from the kept weights" in ok.stdout, ok.stderr
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    meta["certified_error"] = 1e-6
    with open(tmp_path / "claim.npz", "wb") as f:
        np.savez(f, **{**arrays, "meta": np.array(json.dumps(meta))})
    bad = run_cli("audit", str(tmp_path / "claim.npz"))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "1e-06 is smaller than" in bad.stderr


def test_construct_plans_before_it_works(tmp_path):
    dry = run_cli("construct", "--eps", "1e-9", "--dry-run")  # an 8-hour scan: the plan alone is instant
    assert dry.returncode == 0 and dry.stdout.startswith("plan: malach (rule best)")
    assert " h with 1 process" in dry.stdout or " days with 1 process" in dry.stdout  # hours or days, at RATES
    big = run_cli("construct", "--eps", "1e-9", "--quiet")
    assert big.returncode == 2 and big.stderr.count("\n") == 1 and "plan: " in big.stderr and "--max-values" in big.stderr
    small = run_cli("construct", "--eps", "0.3", "--quiet", "--samples", "500")
    assert small.returncode == 0 and small.stderr.startswith("plan: ") and "G parameters" in small.stdout
    under_a_file = tmp_path / "file"
    under_a_file.write_text("x")
    refused = run_cli("construct", "--eps", "0.3", "--out", str(under_a_file / "t.npz"))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and refused.stdout == ""  # before any work
