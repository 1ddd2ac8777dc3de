"""The `stronglth` command in hostile environments and on bad arguments (the reliability issue): every
case exits 2 with exactly one stderr line ``stronglth: error: ...``, no traceback, nothing on stdout,
and no file created at the output path, checked before anything is computed."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from stronglth import RandomNetwork, Ticket, random_target
from stronglth.cli import main


def assert_one_error_line(code: object, err: str, out: str = "", *, contains: str | None = None) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("stronglth: error:"), err
    assert "Traceback" not in err and out == "", (out, err)
    if contains is not None:
        assert contains in err, err


def run_main(capsys, *args: str, contains: str | None = None) -> str:
    code = main(list(args))
    captured = capsys.readouterr()
    assert_one_error_line(code, captured.err, captured.out, contains=contains)
    return captured.err


def files_under(path: Path) -> set[Path]:
    return {p for p in path.rglob("*")} if path.is_dir() else set()


@pytest.fixture
def ticket_file(tmp_path: Path) -> Path:
    network = RandomNetwork([(8, 2), (1, 8)], seed=4)
    ticket = Ticket.from_positions(network, [([0, 5], [0, 1]), ([0, 0], [0, 5])])
    return ticket.save(tmp_path / "ticket.npz")


@pytest.fixture
def read_only_dir(tmp_path: Path, monkeypatch) -> Iterator[Path]:
    """A directory nobody may write: chmod 0o555, and where chmod does not stop this process (root),
    ``os.access`` says so too (the check the package makes), so the case is tested either way."""
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(0o555)
    probe = directory / ".probe"
    try:
        probe.write_text("")
    except OSError:
        pass  # chmod works: the operating system refuses, os.access agrees
    else:
        probe.unlink()
        real_access = os.access

        def access(path, mode, *args, **kwargs):
            if Path(path).resolve() == directory.resolve() and mode & os.W_OK:
                return False
            return real_access(path, mode, *args, **kwargs)

        monkeypatch.setattr(os, "access", access)
    yield directory
    directory.chmod(0o755)


# -- sweep and plot: output directories --------------------------------------------------------


def test_sweep_out_an_existing_regular_file(tmp_path, capsys):
    out = tmp_path / "results"
    out.write_text("mine\n")
    run_main(capsys, "sweep", "toy", "--out", str(out), "--quiet", contains="not a directory")
    assert out.read_text() == "mine\n" and files_under(tmp_path) == {out}


def test_sweep_out_under_a_regular_file(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    run_main(capsys, "sweep", "toy", "--out", str(tmp_path / "file" / "results"), "--quiet", contains="under a file")
    assert files_under(tmp_path) == {tmp_path / "file"}


def test_sweep_out_a_read_only_directory(read_only_dir, capsys):
    run_main(capsys, "sweep", "toy", "--out", str(read_only_dir), "--quiet", contains="not writable")
    assert files_under(read_only_dir) == set()


def test_sweep_out_under_a_read_only_directory(read_only_dir, capsys):
    run_main(capsys, "sweep", "toy", "--out", str(read_only_dir / "new" / "deeper"), "--quiet", contains="not writable")
    assert files_under(read_only_dir) == set()


def test_sweep_out_whose_experiment_directory_is_a_file(tmp_path, capsys):
    (tmp_path / "toy").write_text("not a directory\n")
    run_main(capsys, "sweep", "toy", "--out", str(tmp_path), "--quiet", contains="not a directory")
    assert files_under(tmp_path) == {tmp_path / "toy"}


@pytest.mark.parametrize("jobs", ["0", "-3"])
def test_sweep_jobs_out_of_range(tmp_path, capsys, jobs):
    run_main(capsys, "sweep", "toy", "--out", str(tmp_path), "--jobs", jobs, "--quiet", contains="--jobs")
    assert files_under(tmp_path) == set()


def test_sweep_jobs_not_an_integer(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", "toy", "--out", str(tmp_path), "--jobs", "2.5"])
    captured = capsys.readouterr()
    assert_one_error_line(exit_info.value.code, captured.err, captured.out, contains="--jobs")
    assert files_under(tmp_path) == set()


@pytest.fixture
def results(tmp_path, capsys) -> Path:
    out = tmp_path / "results"
    assert main(["sweep", "toy", "--out", str(out), "--quiet", "--no-report"]) == 0
    capsys.readouterr()
    return out


def test_merge_a_regular_file(tmp_path, capsys):
    (tmp_path / "rows.jsonl").write_text("")
    run_main(capsys, "sweep", "merge", str(tmp_path / "rows.jsonl"), contains="not a directory")


def test_merge_into_a_regular_file(results, tmp_path, capsys):
    dest = tmp_path / "dest"
    dest.write_text("mine\n")
    run_main(capsys, "sweep", "merge", str(results), "--out", str(dest), contains="not a directory")
    assert dest.read_text() == "mine\n"


def test_merge_into_a_directory_under_a_file(results, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    run_main(capsys, "sweep", "merge", str(results), "--out", str(tmp_path / "file" / "dest"), contains="under a file")


def test_merge_into_a_read_only_directory(results, read_only_dir, capsys):
    run_main(capsys, "sweep", "merge", str(results), "--out", str(read_only_dir), contains="not writable")
    assert files_under(read_only_dir) == set()


def test_plot_of_a_file(tmp_path, capsys):
    (tmp_path / "results.jsonl").write_text("")
    run_main(capsys, "plot", str(tmp_path / "results.jsonl"), contains="not a directory")


def test_plot_of_a_missing_directory(tmp_path, capsys):
    run_main(capsys, "plot", str(tmp_path / "absent"), contains="no such directory")
    assert not (tmp_path / "absent").exists()


def test_plot_of_a_read_only_directory(results, read_only_dir, capsys):
    run_main(capsys, "plot", str(read_only_dir), contains="not writable")


def test_plot_with_a_full_disk_leaves_no_report_file(results, capsys, monkeypatch):
    before = files_under(results)

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(src), None, str(dst))

    monkeypatch.setattr(os, "replace", full)
    err = run_main(capsys, "plot", str(results), contains=os.strerror(errno.ENOSPC))
    assert "toy.csv" in err or "cells.csv" in err or "summary.md" in err or "README.md" in err
    assert files_under(results) == before, "no report file and no temporary file is left"


# -- verify and audit: input files ---------------------------------------------------------------


def bad_ticket_paths(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "directory").mkdir()
    (tmp_path / "text.npz").write_text("this is not a ticket\n")
    (tmp_path / "empty.npz").write_bytes(b"")
    target = random_target(2, [3, 1], seed=0)
    np.savez(tmp_path / "target.npz", W_1=target.weights[0], W_2=target.weights[1])
    np.save(tmp_path / "array.npy", np.zeros(3))
    (tmp_path / "file").write_text("")
    return {
        "directory": tmp_path / "directory",
        "missing": tmp_path / "missing.npz",
        "text": tmp_path / "text.npz",
        "empty": tmp_path / "empty.npz",
        "target": tmp_path / "target.npz",
        "npy": tmp_path / "array.npy",
        "under-a-file": tmp_path / "file" / "ticket.npz",
    }


BAD_TICKETS = ["directory", "missing", "text", "empty", "target", "npy", "under-a-file"]


@pytest.mark.parametrize("command", ["verify", "audit"])
@pytest.mark.parametrize("case", BAD_TICKETS)
def test_verify_and_audit_of_what_is_not_a_ticket(tmp_path, capsys, command, case):
    path = bad_ticket_paths(tmp_path)[case]
    before = files_under(tmp_path)
    err = run_main(capsys, command, str(path))
    assert str(path) in err
    assert files_under(tmp_path) == before


def test_verify_of_a_directory_says_so(tmp_path, capsys):
    run_main(capsys, "verify", str(tmp_path), contains="is a directory")


def test_verify_of_a_directory_in_a_fresh_process(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "stronglth", "verify", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert_one_error_line(result.returncode, result.stderr, result.stdout, contains="is a directory")


@pytest.mark.parametrize(
    "option, value",
    [
        ("--samples", "-1"),
        ("--samples", "0"),
        ("--samples", str(10**11)),
        ("--seed", "-1"),
        ("--time-limit", "0"),
        ("--time-limit", "-5"),
        ("--time-limit", "nan"),
        ("--time-limit", "inf"),
    ],
)
def test_verify_options_out_of_range(ticket_file, capsys, option, value):
    run_main(capsys, "verify", str(ticket_file), option, value, contains=option)


@pytest.mark.parametrize("option, value", [("--samples", "1e5"), ("--seed", "x"), ("--norm", "l1")])
def test_verify_options_of_the_wrong_type(ticket_file, capsys, option, value):
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", str(ticket_file), option, value])
    captured = capsys.readouterr()
    assert_one_error_line(exit_info.value.code, captured.err, captured.out, contains=option)


# -- demo, and the target options of construct ---------------------------------------------------


@pytest.mark.parametrize(
    "args, option", [(["--jobs", "0"], "--jobs"), (["--jobs", "-2"], "--jobs"), (["--seed", "-1"], "--seed")]
)
def test_demo_options_out_of_range(capsys, args, option):
    run_main(capsys, "demo", *args, contains=option)


@pytest.mark.parametrize(
    "args, option",
    [
        (["--d", "0"], "--d"),
        (["--widths", "4", "0"], "--widths"),
        (["--target-seed", "-1"], "--target-seed"),
        (["--family", "cauchy"], "family"),
    ],
)
def test_target_options_out_of_range(tmp_path, capsys, args, option):
    run_main(capsys, "construct", "--eps", "0.2", *args, "--out", str(tmp_path / "t.npz"), contains=option)
    assert files_under(tmp_path) == set()


def test_target_option_naming_a_directory(tmp_path, capsys):
    run_main(capsys, "construct", "--eps", "0.2", "--target", str(tmp_path), contains="is a directory")


def test_construct_with_a_full_disk_leaves_nothing(tmp_path, capsys, monkeypatch):
    out = tmp_path / "ticket.npz"

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(src), None, str(dst))

    monkeypatch.setattr(os, "replace", full)
    code = main(["construct", "--eps", "0.3", "--d", "2", "--widths", "3", "1", "--samples", "100", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    # construct prints its plan on stderr before it works (its own line); the error is the one error line
    errors = [line for line in err.splitlines() if line.startswith("stronglth: error:")]
    assert code == 2 and "Traceback" not in err and errors == [err.splitlines()[-1]], err
    assert os.strerror(errno.ENOSPC) in errors[0] and str(out) in errors[0]
    assert files_under(tmp_path) == set(), "no ticket and no temporary file"


# -- the handler: operating-system errors and memory ---------------------------------------------


def test_an_os_error_mid_run_is_one_line_naming_the_path(tmp_path, capsys, monkeypatch):
    from stronglth import sweep

    def failing(*args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(tmp_path / "results.jsonl"))

    monkeypatch.setattr(sweep, "run", failing)
    err = run_main(capsys, "sweep", "toy", "--out", str(tmp_path), "--quiet")
    assert err == f"stronglth: error: {tmp_path / 'results.jsonl'}: {os.strerror(errno.EIO)}\n"


def test_running_out_of_memory_is_one_line(tmp_path, capsys, monkeypatch):
    from stronglth import sweep

    def failing(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(sweep, "run", failing)
    run_main(capsys, "sweep", "toy", "--out", str(tmp_path), "--quiet", contains="out of memory")


# -- edge-popup -----------------------------------------------------------------------------------


@pytest.fixture
def edge_popup_main():
    pytest.importorskip("torch")
    from stronglth.cli.edge_popup import main as edge_main

    return edge_main


def test_edge_popup_classify_out_checks(tmp_path, capsys, edge_popup_main):
    (tmp_path / "file").write_text("")
    (tmp_path / "dir.pt").mkdir()
    cases = {
        str(tmp_path / "dir.pt"): "is a directory",
        str(tmp_path / "model.txt"): ".pt",
        str(tmp_path / "missing" / "model.pt"): "does not exist",
        str(tmp_path / "file" / "model.pt"): "under a file",
    }
    for out, message in cases.items():
        code = edge_popup_main(["classify", "--out", out, "--quiet", "--epochs", "1"])
        captured = capsys.readouterr()
        assert_one_error_line(code, captured.err, captured.out, contains=message)
    assert files_under(tmp_path) == {tmp_path / "file", tmp_path / "dir.pt"}


@pytest.mark.parametrize(
    "args, option",
    [
        (["classify", "--epochs", "0"], "--epochs"),
        (["classify", "--batch-size", "0"], "--batch-size"),
        (["classify", "--limit", "-1"], "--limit"),
        (["classify", "--lr", "0"], "--lr"),
        (["classify", "--lr", "nan"], "--lr"),
        (["classify", "--seed", "-1"], "--seed"),
        (["classify", "--threads", "-1"], "--threads"),
        (["classify", "--widths", "0"], "--widths"),
        (["approximate", "--samples", "0"], "--samples"),
        (["approximate", "--steps", "0"], "--steps"),
        (["approximate", "--block-size", "0"], "--block-size"),
        (["approximate", "--eps", "-0.1"], "--eps"),
        (["approximate", "--d", "0"], "--d"),
    ],
)
def test_edge_popup_options_out_of_range(capsys, edge_popup_main, args, option):
    code = edge_popup_main([*args, "--quiet"])
    captured = capsys.readouterr()
    assert_one_error_line(code, captured.err, captured.out, contains=option)


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "big"])
def test_edge_popup_weight_scale_must_be_a_positive_number(capsys, edge_popup_main, value):
    with pytest.raises(SystemExit) as exit_info:
        edge_popup_main(["approximate", "--weight-scale", value, "--quiet"])
    captured = capsys.readouterr()
    assert_one_error_line(exit_info.value.code, captured.err, captured.out, contains="--weight-scale")


def test_demo_without_a_writable_temporary_directory(tmp_path, capsys, monkeypatch):
    import tempfile

    (tmp_path / "file").write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "file" / "tmp"))
    run_main(capsys, "demo", contains="under a file")
