"""`stronglth verify T.npz --data FILE --labels FILE --domain box` (stronglth/cli/verify.py): errors on a
data set said to be on the data, every measure naming its domain, bad files refused with exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stronglth import construct, random_target
from stronglth.cli import main
from stronglth.verification import data_errors


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("verify_data")
    target = random_target(3, [5, 3], seed=4)
    ticket = construct(target, eps=0.1, seed=4)
    ticket.save(folder / "t.npz")
    x = np.random.default_rng(0).standard_normal((400, 3))
    y = np.argmax(target.forward(x), axis=1)
    np.savez(folder / "data.npz", X=x, y=y)
    np.save(folder / "x.npy", x)
    np.save(folder / "y.npy", y)
    np.save(folder / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return folder, ticket, x, y


def run_json(capsys, *argv):
    assert main(["verify", *argv, "--samples", "300", "--json"]) == 0
    return json.loads(capsys.readouterr().out, parse_constant=lambda name: pytest.fail(f"not strict JSON: {name}"))


def test_data_and_labels_from_an_npz_and_from_npy_files_agree_with_the_api(files, capsys):
    folder, ticket, x, y = files
    expected = data_errors(ticket, ticket.target, x, labels=y)
    for data, labels in ((f"{folder}/data.npz:X", f"{folder}/data.npz:y"), (f"{folder}/x.npy", f"{folder}/y.npy")):
        out = run_json(capsys, str(folder / "t.npz"), "--data", data, "--labels", labels)
        assert out["domain"] == "ball" and out["data"]["domain"] == "data" and out["nested"] is True
        assert out["data"]["max_error"] == expected.max_error and out["data"]["mean_error"] == expected.mean_error
        assert out["data"]["target_accuracy"] == 1.0 and out["data"]["agreement"] == expected.agreement


def test_the_table_says_what_each_number_is_over(files, capsys):
    folder, *_ = files
    assert main(["verify", str(folder / "t.npz"), "--samples", "300", "--domain", "box", "--data", f"{folder}/x.npy"]) == 0
    out = capsys.readouterr().out
    assert "over the box [-1, 1]^d" in out and "points of the box" in out
    assert "sqrt(3) x the ball bound" in out  # the certified bound over the box, by homogeneity
    assert "exact on the data, not a bound over the ball" in out and "outside the unit ball" in out
    assert "accuracy" not in out  # no labels


def test_the_box_domain_in_json(files, capsys):
    folder, ticket, *_ = files
    out = run_json(capsys, str(folder / "t.npz"), "--domain", "box", "--method", "bab")
    assert out["domain"] == "box" and out["data"] is None and out["exact_method"] == "bab"
    assert out["adversarial"] <= out["exact_upper"] * (1 + 1e-9) <= out["certified"] * (1 + 1e-9)
    assert out["certified"] == pytest.approx(np.sqrt(3) * ticket.certified_error, rel=1e-12)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--labels", "{folder}/y.npy"], "--labels needs --data"),
        (["--data", "{folder}/missing.npy"], "no such file"),
        (["--data", "{folder}/data.npz"], "name one as"),
        (["--data", "{folder}/data.npz:Z"], "no array 'Z'"),
        (["--data", "{folder}/objects.npy"], "without pickled objects"),
        (["--data", "{folder}/t.npz:meta"], "real (integer or floating-point)"),
        (["--data", "{folder}/y.npy"], "shape"),
        (["--data", "{folder}/x.npy", "--labels", "{folder}/x.npy"], "integer"),
        (["--domain", "cube"], "invalid choice"),
    ],
)
def test_bad_files_and_options_are_refused_in_one_line(files, capsys, extra, message):
    folder, *_ = files
    argv = ["verify", str(folder / "t.npz"), "--samples", "100", *[a.format(folder=folder) for a in extra]]
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's own refusals
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
