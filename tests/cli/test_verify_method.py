"""`stronglth verify T.npz --method NAME` (stronglth/cli/verify.py): the exact method by name, named in
the table and the JSON, implying --exact; an unknown name is refused with exit 2."""

from __future__ import annotations

import json

import pytest

from stronglth import construct, random_target
from stronglth.cli import main


@pytest.fixture(scope="module")
def ticket_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("verify_method") / "t.npz"
    construct(random_target(3, [6, 1], seed=2), eps=0.1, seed=2).save(path)
    return str(path)


@pytest.mark.parametrize("method", ["bab", "bounds", "milp"])
def test_the_named_method_runs_and_is_named(ticket_path, method, capsys):
    assert main(["verify", ticket_path, "--method", method, "--samples", "500", "--json"]) == 0
    data = json.loads(capsys.readouterr().out, parse_constant=lambda name: pytest.fail(f"not strict JSON: {name}"))
    assert data["exact_method"] == method and data["nested"] is True
    assert data["exact_lower"] <= data["exact_upper"]
    assert data["adversarial"] <= data["exact_upper"] * (1 + 1e-9)  # every upper bound is above every point's error
    if method == "bounds":  # the differential bound is never worse than the certified one (it contains its recursion)
        assert data["exact_upper"] <= data["certified"] * (1 + 1e-2)


def test_the_table_names_the_method_and_auto_picks_one(ticket_path, capsys):
    assert main(["verify", ticket_path, "--method", "bounds", "--samples", "500"]) == 0
    assert "(bounds)" in capsys.readouterr().out
    assert main(["verify", ticket_path, "--method", "auto", "--samples", "500", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["exact_method"] in ("milp", "bab")


def test_an_unknown_method_is_refused(ticket_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["verify", ticket_path, "--method", "simplex"])
    assert stop.value.code == 2
    assert "simplex" in capsys.readouterr().err
