"""The sweep engine (stronglth/sweep/): hashes, the append-only store, resume after SIGKILL,
shard + merge, the process pool, and the `stronglth sweep` / `stronglth plot` commands."""

from __future__ import annotations

import argparse
import errno
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stronglth import sweep
from stronglth._workers import available_cpus
from stronglth.errors import CellFailed, InvalidInputError, StrongLTHError
from stronglth.experiments import EXPERIMENTS, get_experiment
from stronglth.experiments.depth import DepthCell
from stronglth.experiments.failure_prob import FailureProbCell
from stronglth.experiments.looseness import LoosenessCell
from stronglth.experiments.toy import ToyCell
from stronglth.experiments.width_vs_eps import WidthVsEpsCell
from stronglth.sweep.runner import _make_row

# -- hashes ------------------------------------------------------------------------------------------------

PINNED = [  # computed once (Python 3.11, numpy 2.4) and committed: a change here renames every stored result
    (ToyCell(seed=0), "503ddf36477d963a"),
    (ToyCell(seed=7, sleep=0.005, size=4), "cec71ca4b93e0278"),
    (WidthVsEpsCell(method="malach-best", eps=0.1), "f5f8bddadd9c6463"),
    (WidthVsEpsCell(method="subsetsum", eps=0.4 * 2.0**-12, delta=0.05, seeds=40, rtol=0.05), "59cb968c9ce2c193"),
    (
        FailureProbCell(
            family="one-weight",
            d=1,
            widths=(1,),
            target_seed=0,
            rule="best",
            eps=0.5,
            block_sizes=(200,),
            first_seed=200,
            seeds=200,
        ),
        "7cc2605bc12a8421",
    ),
    (DepthCell(method="subsetsum", depth=3, width=4, block_size=32, seed=2), "d5f4276025d86cc8"),
    # bab_seconds joined LoosenessCell with the branch-and-bound upper bound (its rows were recomputed)
    (LoosenessCell(rule="matching", eps=0.1, seed=3, d=4, widths=(8, 8, 1)), "b16bb6791e56707d"),
]


def test_canonical_json_is_pinned():
    assert sweep.canonical_json(ToyCell(seed=0)) == '{"config":{"seed":0,"size":3,"sleep":0.0},"type":"ToyCell"}'
    assert sweep.canonical_json(WidthVsEpsCell(method="malach-best", eps=0.1)) == (
        '{"config":{"d":2,"delta":0.1,"eps":0.1,"family":"gaussian","method":"malach-best","rtol":0.1,"seeds":10,'
        '"target_seed":0,"widths":[2,1]},"type":"WidthVsEpsCell"}'
    )


@pytest.mark.parametrize("config, expected", PINNED, ids=[type(c).__name__ + str(i) for i, (c, _) in enumerate(PINNED)])
def test_config_hashes_are_pinned(config, expected):
    assert sweep.config_hash(config) == expected


def test_hashes_do_not_depend_on_the_interpreter_run():
    """A fresh interpreter with another string-hash seed computes the same names."""
    code = textwrap.dedent("""
        from stronglth import sweep
        from stronglth.experiments.toy import ToyCell
        from stronglth.experiments.width_vs_eps import WidthVsEpsCell
        print(sweep.config_hash(ToyCell(seed=0)), sweep.config_hash(WidthVsEpsCell(method="malach-best", eps=0.1)))
    """)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        check=True,
    ).stdout.split()
    assert out == [PINNED[0][1], PINNED[2][1]]


def test_equal_configs_have_equal_hashes_whatever_the_input_types():
    assert sweep.config_hash(ToyCell(seed=np.int64(3))) == sweep.config_hash(ToyCell(seed=3))
    assert sweep.config_hash(ToyCell(seed=3, sleep=0)) == sweep.config_hash(ToyCell(seed=3, sleep=0.0))
    a = WidthVsEpsCell(method="malach-best", eps=np.float64(0.1), widths=[2, 1])
    assert a.widths == (2, 1) and type(a.eps) is float
    assert sweep.config_hash(a) == sweep.config_hash(WidthVsEpsCell(method="malach-best", eps=0.1))


@given(a=st.integers(0, 2**40), b=st.integers(0, 2**40), x=st.floats(1e-6, 1.0), y=st.floats(1e-6, 1.0))
def test_distinct_configs_have_distinct_hashes(a, b, x, y):
    assert (sweep.config_hash(ToyCell(seed=a, sleep=x)) == sweep.config_hash(ToyCell(seed=b, sleep=y))) == (a == b and x == y)


def test_bad_configs_are_refused():
    with pytest.raises(InvalidInputError):
        ToyCell(seed=1, sleep=float("nan"))
    with pytest.raises(InvalidInputError):
        ToyCell(seed=True)
    with pytest.raises(InvalidInputError):
        WidthVsEpsCell(method="malach-best", eps=0.1, delta=1.5)
    with pytest.raises(InvalidInputError):
        sweep.config_hash({"seed": 1})


# -- the store ----------------------------------------------------------------------------------------------


def toy_rows(n: int, start: int = 0) -> list[sweep.Row]:
    exp = get_experiment("toy")
    out = []
    for s in range(start, start + n):
        config = ToyCell(seed=s)
        out.append(_make_row(exp, config, sweep.config_hash(config), exp.cell(config), 0.0))
    return out


def test_reader_ignores_a_torn_last_line_and_the_writer_cuts_it(tmp_path):
    path = tmp_path / "results.jsonl"
    rows = toy_rows(4)
    with sweep.ResultWriter(path) as w:
        for row in rows[:3]:
            w.append(row)
    whole = path.read_bytes()
    torn = rows[3].to_json().encode()[:37]  # a crash in the middle of a write
    path.write_bytes(whole + torn)
    assert [r.hash for r in sweep.read_rows(path)] == [r.hash for r in rows[:3]]
    with sweep.ResultWriter(path) as w:  # reopening cuts the torn tail before appending
        assert path.read_bytes() == whole
        w.append(rows[3])
    assert [r.hash for r in sweep.read_rows(path)] == [r.hash for r in rows]
    assert all(json.loads(line)["hash"] for line in path.read_text().splitlines())


def test_a_damaged_or_edited_row_in_the_middle_is_an_error(tmp_path):
    path = tmp_path / "results.jsonl"
    rows = toy_rows(3)
    lines = [r.to_json() for r in rows]
    path.write_text("\n".join([lines[0], lines[1][:20], lines[2]]) + "\n")
    with pytest.raises(InvalidInputError, match="line 2"):
        sweep.read_rows(path)
    edited = json.loads(lines[1])
    edited["config"]["seed"] = 99
    path.write_text("\n".join([lines[0], json.dumps(edited), lines[2]]) + "\n")
    with pytest.raises(InvalidInputError, match="line 2.*hash"):
        sweep.read_rows(path)


def test_a_second_writer_is_refused(tmp_path):
    path = tmp_path / "results.jsonl"
    with sweep.ResultWriter(path):
        with pytest.raises(InvalidInputError, match="another sweep"):
            sweep.ResultWriter(path)
    sweep.ResultWriter(path).close()  # released on close


def test_rows_round_trip_and_load_rows_deduplicates(tmp_path):
    rows = toy_rows(5)
    with sweep.ResultWriter(tmp_path / "results.jsonl") as w:
        for row in rows[:3]:
            w.append(row)
    with sweep.ResultWriter(tmp_path / "results.shard-0-of-2.jsonl") as w:
        for row in rows[2:]:
            w.append(row)
    loaded = sweep.load_rows(tmp_path)
    assert list(loaded) == [r.hash for r in rows]
    assert all(loaded[r.hash] == r for r in rows)


# -- the store refuses unsafe files, and survives a full disk -------------------------------------------------


def refusals(path: Path) -> list[str]:
    """The messages of the writer and of the reader on ``path``: both must refuse it."""
    messages = []
    for open_it in (sweep.ResultWriter, sweep.read_rows):
        with pytest.raises(InvalidInputError) as info:
            open_it(path)
        assert str(path) in str(info.value), "the message names the file"
        messages.append(str(info.value))
    return messages


@pytest.mark.parametrize("target", ["a torn text file", "a results file", "nothing"])
def test_a_symlinked_results_file_is_refused_and_its_target_untouched(tmp_path, target):
    rows = toy_rows(2)
    victim = tmp_path / "elsewhere.txt"
    if target == "a torn text file":  # the writer used to cut this at its last newline, following the link
        victim.write_bytes(b"precious line\nno newline at the end")
    elif target == "a results file":
        victim.write_bytes("".join(r.to_json() + "\n" for r in rows).encode() + rows[1].to_json().encode()[:20])
    link = tmp_path / "toy" / "results.jsonl"
    link.parent.mkdir()
    link.symlink_to(victim)
    before = victim.read_bytes() if victim.exists() else None
    assert all("symbolic link" in m for m in refusals(link))
    with pytest.raises(InvalidInputError, match="symbolic link"):
        sweep.run(get_experiment("toy"), out=tmp_path, configs=[ToyCell(seed=0)], progress=False)
    assert (victim.read_bytes() if victim.exists() else None) == before, "the target is untouched"
    assert link.is_symlink()


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_results_file_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    path = tmp_path / "results.jsonl"
    if kind == "directory":
        path.mkdir()
    else:
        os.mkfifo(path)  # POSIX (this package's platform); opening it the old way would block forever
    assert all("not a regular file" in m for m in refusals(path))
    with pytest.raises(InvalidInputError, match="not a regular file"):
        sweep.load_rows(tmp_path)
    assert path.is_dir() if kind == "directory" else path.is_fifo()


@pytest.mark.parametrize(
    "content",
    [
        b"this is not json\nnor this\n",  # garbage, then a torn row: cutting it would change a file that is not ours
        b"",  # no complete line, and a last line that is not the start of a row
    ],
    ids=["garbage lines", "garbage tail"],
)
def test_a_file_that_is_not_rows_is_refused_and_left_as_it_is(tmp_path, content):
    path = tmp_path / "results.jsonl"
    good = toy_rows(2)
    data = content + (good[0].to_json().encode()[:30] if content else good[0].to_json().encode() + b"\n" + b"garbage")
    path.write_bytes(data)
    messages = refusals(path)
    assert all(("line 1" if content else "line 2") in m for m in messages)
    assert path.read_bytes() == data, "nothing was cut or appended"


def test_a_torn_tail_of_zero_bytes_is_cut_like_a_torn_row(tmp_path):
    """A power loss can leave the file extended with zeros where the last row was being written."""
    path = tmp_path / "results.jsonl"
    rows = toy_rows(2)
    whole = "".join(r.to_json() + "\n" for r in rows).encode()
    for tail in (b"\0" * 64, rows[0].to_json().encode()[:25] + b"\0" * 7):
        path.write_bytes(whole + tail)
        assert [r.hash for r in sweep.read_rows(path)] == [r.hash for r in rows]
        with sweep.ResultWriter(path) as w:
            assert path.read_bytes() == whole and w.rows == rows


def full_disk(monkeypatch, fd: int, where: str) -> None:
    """Make the disk behind ``fd`` full: ``write`` writes half of its first call then fails, or
    ``fsync`` fails after a complete write."""
    real_write, real_fsync = os.write, os.fsync
    calls = []

    def write(to, data):
        if to != fd:
            return real_write(to, data)
        calls.append(len(data))
        if where == "write" and len(calls) == 1:
            return real_write(to, bytes(data[: len(data) // 2]))  # a partial write, then ENOSPC
        if where == "write":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(to, data)

    def fsync(to):
        if to == fd and where == "fsync" and calls:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(to)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("where", ["write", "fsync"])
def test_ctrl_c_mid_write_cuts_the_row_but_during_fsync_keeps_it(tmp_path, monkeypatch, where):
    """A row whose line is not whole is undone; once it is whole (Ctrl-C during the fsync) it is
    finished work, already readable by anyone, and stays (found as a rare race of a Ctrl-C test)."""
    path = tmp_path / "results.jsonl"
    rows = toy_rows(2)
    real_write, real_fsync = os.write, os.fsync
    with sweep.ResultWriter(path) as w:
        w.append(rows[0])
        whole = path.read_bytes()
        fd, interrupted = w.fileno(), []

        def write(to, data):
            if to == fd and where == "write" and not interrupted:
                interrupted.append(real_write(to, bytes(data[: len(data) // 2])))
                raise KeyboardInterrupt
            return real_write(to, data)

        def fsync(to):
            if to == fd and where == "fsync" and not interrupted:
                interrupted.append(True)
                raise KeyboardInterrupt
            return real_fsync(to)

        monkeypatch.setattr(os, "write", write)
        monkeypatch.setattr(os, "fsync", fsync)
        with pytest.raises(KeyboardInterrupt):
            w.append(rows[1])
        monkeypatch.undo()
    assert interrupted
    if where == "write":
        assert path.read_bytes() == whole and sweep.read_rows(path) == rows[:1]
    else:
        assert sweep.read_rows(path) == rows


@pytest.mark.parametrize("where", ["write", "fsync"])
def test_a_full_disk_mid_row_is_a_package_error_and_the_file_ends_at_a_row(tmp_path, monkeypatch, where):
    path = tmp_path / "results.jsonl"
    rows = toy_rows(3)
    with sweep.ResultWriter(path) as w:
        w.append(rows[0])
        whole = path.read_bytes()
        full_disk(monkeypatch, w.fileno(), where)
        with pytest.raises(InvalidInputError) as info:
            w.append(rows[1])
        assert str(path) in str(info.value) and "No space left on device" in str(info.value)
        assert "last complete row" in str(info.value)
        assert path.read_bytes() == whole, "the partial row is cut off again"
        monkeypatch.undo()  # room again: the same writer goes on
        w.append(rows[1])
    with sweep.ResultWriter(path) as w:
        w.append(rows[2])
    assert sweep.read_rows(path) == rows


# -- running: resume after SIGKILL, pool, shards ------------------------------------------------------------------

N_CELLS = 80


def configs(sleep: float = 0.02) -> list[ToyCell]:
    return [ToyCell(seed=s, sleep=sleep) for s in range(N_CELLS)]


def results_of(directory: Path) -> dict[str, dict]:
    rows = sweep.load_rows(directory / "toy")
    return {h: (r.config, r.result) for h, r in rows.items()}


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("serial")
    summary = sweep.run(get_experiment("toy"), out=out, configs=configs(), progress=False)
    assert summary.computed == N_CELLS and summary.skipped == 0
    return results_of(out)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_sweep_killed_by_sigkill_resumes_to_exactly_the_uninterrupted_rows(tmp_path, uninterrupted, jobs):
    script = textwrap.dedent(f"""
        from stronglth import sweep
        from stronglth.experiments import get_experiment
        from stronglth.experiments.toy import ToyCell
        sweep.run(get_experiment("toy"), out={str(tmp_path)!r}, jobs={jobs}, progress=False,
                  configs=[ToyCell(seed=s, sleep=0.02) for s in range({N_CELLS})])
    """)
    results = tmp_path / "toy" / "results.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-c", script], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if results.exists() and results.read_bytes().count(b"\n") >= 10:
                break
            if process.poll() is not None:
                pytest.fail(f"the sweep ended before it could be killed: {process.stderr.read().decode()}")
            time.sleep(0.005)
        os.killpg(process.pid, signal.SIGKILL)  # the sweep and its workers: the group this test started
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    before = lines_of(results)
    assert 10 <= len(before) < N_CELLS, "killed mid-run"
    with open(results, "ab") as f:  # and a crash in the middle of a write, for good measure
        f.write(b'{"config":{"seed":79,"si')
    summary = sweep.run(get_experiment("toy"), out=tmp_path, jobs=jobs, configs=configs(), progress=False)
    assert summary.skipped == len(before) and summary.computed == N_CELLS - len(before)
    after = lines_of(results)  # every line a whole row
    assert after[: len(before)] == before, "append-only: rows written before the kill are untouched"
    hashes = [row["hash"] for row in after]
    assert len(hashes) == len(set(hashes)) == N_CELLS, "no duplicates"
    assert results_of(tmp_path) == uninterrupted


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_full_disk_during_a_sweep_is_one_error_and_the_rerun_resumes(tmp_path, monkeypatch, uninterrupted, jobs):
    """The 26th row meets a full disk half-way: the sweep stops with a package error, the file holds
    the 25 rows before it, and a rerun with room again ends with the uninterrupted run's rows."""
    real_write = os.write
    state: dict[str, int] = {"rows": 0}

    def write(fd, data):
        if fd == state.get("full"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if bytes(data[:10]) == b'{"config":':  # a row (only the parent writes rows)
            state["rows"] += 1
            if state["rows"] == 26:
                state["full"] = fd
                return real_write(fd, bytes(data[: len(data) // 2]))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    with pytest.raises(InvalidInputError, match="No space left on device"):
        sweep.run(get_experiment("toy"), out=tmp_path, jobs=jobs, configs=configs(), progress=False)
    monkeypatch.undo()
    results = tmp_path / "toy" / "results.jsonl"
    assert results.read_bytes().endswith(b"\n") and len(lines_of(results)) == 25
    summary = sweep.run(get_experiment("toy"), out=tmp_path, jobs=jobs, configs=configs(), progress=False)
    assert (summary.skipped, summary.computed) == (25, N_CELLS - 25)
    assert results_of(tmp_path) == uninterrupted


def test_pool_equals_serial(tmp_path, uninterrupted):
    sweep.run(get_experiment("toy"), out=tmp_path, jobs=2, configs=configs(), progress=False)
    assert results_of(tmp_path) == uninterrupted


def test_shards_partition_the_grid():
    cells = list(range(17))
    parts = [sweep.shard_cells(cells, (i, 5)) for i in range(5)]
    assert sorted(x for p in parts for x in p) == cells
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert sweep.parse_shard("3/8") == (3, 8)
    for bad in ("8/8", "1/0", "x/2", "-1/3", "2"):
        with pytest.raises(InvalidInputError):
            sweep.parse_shard(bad)


def test_shard_and_merge_equals_serial(tmp_path):
    shared, separate = tmp_path / "shared", tmp_path / "separate"
    sweep.run(get_experiment("toy"), out=tmp_path / "serial", configs=configs(sleep=0.0), progress=False)
    uninterrupted = results_of(tmp_path / "serial")
    for i in range(3):  # shards writing to one directory (a cluster file system) ...
        sweep.run(get_experiment("toy"), out=shared, shard=f"{i}/3", configs=configs(sleep=0.0), progress=False)
    assert sorted(p.name for p in (shared / "toy").glob("*.jsonl")) == [f"results.shard-{i}-of-3.jsonl" for i in range(3)]
    summary = sweep.merge([shared])
    assert summary.appended == {"toy": N_CELLS} and not summary.conflicts
    merged = lines_of(shared / "toy" / "results.jsonl")
    assert len({r["hash"] for r in merged}) == len(merged) == N_CELLS
    assert results_of(shared) == uninterrupted
    assert sweep.merge([shared]).appended == {"toy": 0}, "merging again appends nothing"
    for i in range(3):  # ... or to directories of their own, merged elsewhere
        sweep.run(get_experiment("toy"), out=separate / str(i), shard=(i, 3), configs=configs(sleep=0.0), progress=False)
    sweep.merge([separate / str(i) for i in range(3)], tmp_path / "merged")
    assert len(lines_of(tmp_path / "merged" / "toy" / "results.jsonl")) == N_CELLS
    assert results_of(tmp_path / "merged") == uninterrupted
    # a shard run after the merge finds its cells done
    assert sweep.run(get_experiment("toy"), out=shared, configs=configs(sleep=0.0), progress=False).computed == 0


def test_merge_reports_conflicting_results(tmp_path):
    rows = toy_rows(3)
    with sweep.ResultWriter(tmp_path / "a" / "toy" / "results.jsonl") as w:
        for row in rows:
            w.append(row)
    changed = sweep.Row(**{**rows[1].__dict__, "result": {"total": -1.0, "values": []}})
    with sweep.ResultWriter(tmp_path / "b" / "toy" / "results.jsonl") as w:
        w.append(changed)
    summary = sweep.merge([tmp_path / "a", tmp_path / "b"], write_report=False)
    assert summary.conflicts == (rows[1].hash,) and summary.appended == {"toy": 0}


@dataclass(frozen=True)
class BrokenCell(sweep.SweepConfig):
    seed: int


def broken_cell(config: BrokenCell) -> dict:
    if config.seed == 3:
        raise InvalidInputError("seed 3 is broken")
    return {"seed": config.seed}


def test_a_failing_cell_keeps_the_finished_rows(tmp_path):
    exp = sweep.Experiment(
        "test-broken", BrokenCell, lambda full: [BrokenCell(seed=s) for s in range(6)], broken_cell, hidden=True
    )
    with pytest.raises(CellFailed, match="seed 3 is broken.*3 row"):
        sweep.run(exp, out=tmp_path, progress=False)
    assert sorted(r.config["seed"] for r in sweep.load_rows(tmp_path / "test-broken").values()) == [0, 1, 2]


def dying_cell(config: BrokenCell) -> dict:
    if config.seed == 3:
        if multiprocessing.parent_process() is None:  # never the test process itself
            raise InvalidInputError("dying_cell runs in worker processes only")
        os.kill(os.getpid(), signal.SIGKILL)  # a worker killed mid-cell (the OOM killer, say)
    return {"seed": config.seed}


@pytest.mark.skipif(available_cpus() < 2, reason="jobs=2 runs serially on one CPU")
def test_a_worker_killed_mid_cell_is_one_package_error_and_keeps_the_finished_rows(tmp_path):
    exp = sweep.Experiment("test-dying", BrokenCell, lambda full: [BrokenCell(seed=s) for s in range(8)], dying_cell, hidden=True)
    with pytest.raises(CellFailed, match="terminated abruptly.*rerun to resume"):
        sweep.run(exp, out=tmp_path, jobs=2, progress=False)
    seeds = sorted(r.config["seed"] for r in sweep.load_rows(tmp_path / "test-dying").values())
    assert 3 not in seeds and len(seeds) == len(set(seeds)) and set(seeds) <= set(range(8))


def test_unknown_experiment_and_bad_arguments():
    with pytest.raises(InvalidInputError, match="unknown experiment"):
        get_experiment("nope")
    with pytest.raises(InvalidInputError, match="jobs"):
        sweep.run(get_experiment("toy"), jobs=0)
    with pytest.raises(InvalidInputError, match="takes ToyCell"):
        sweep.run(get_experiment("toy"), configs=[BrokenCell(seed=1)])


# -- the commands --------------------------------------------------------------------------------------------


def cli_main(argv: list[str]) -> int:
    """`stronglth` itself once cli.py registers the sweep commands; until then the same parser and
    error handling around stronglth.cli.sweep.add_parser."""
    from stronglth import cli
    from stronglth.cli.sweep import add_parser

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "sweep" not in sub.choices:
        add_parser(sub)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except StrongLTHError as exc:
        print(f"stronglth: error: {exc}", file=sys.stderr)
        return 2


def test_cli_sweep_shard_merge_plot(tmp_path, capsys):
    out = str(tmp_path)
    for i in range(2):
        assert cli_main(["sweep", "toy", "--out", out, "--shard", f"{i}/2", "--quiet"]) == 0
    assert "stronglth sweep merge" in capsys.readouterr().out
    assert cli_main(["sweep", "merge", out]) == 0
    assert "20 rows appended" in capsys.readouterr().out
    assert cli_main(["sweep", "toy", "--out", out, "--jobs", "2", "--quiet"]) == 0
    assert "20 already done, 0 computed" in capsys.readouterr().out
    assert cli_main(["plot", out]) == 0
    assert (tmp_path / "toy" / "toy.csv").exists() and (tmp_path / "toy" / "cells.csv").exists()


def test_the_index_never_overwrites_a_foreign_readme(tmp_path):
    (tmp_path / "README.md").write_text("# mine\n")
    sweep.run(get_experiment("toy"), out=tmp_path, progress=False)
    assert (tmp_path / "README.md").read_text() == "# mine\n"
    assert (tmp_path / "sweep-index.md").exists()
    (tmp_path / "README.md").unlink()
    assert sweep.write_index(tmp_path, EXPERIMENTS) == tmp_path / "README.md"
    assert sweep.write_index(tmp_path, EXPERIMENTS) == tmp_path / "README.md", "its own index is regenerated in place"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sweep", "toy", "--shard", "2/2"], "0 <= i < N"),
        (["sweep", "toy", "--jobs", "0"], "--jobs"),
        (["sweep", "merge", "/nonexistent/dir"], "no such directory"),
        (["plot", "/nonexistent/dir"], "no such directory"),
    ],
)
def test_cli_errors_are_one_line(tmp_path, capsys, argv, message):
    assert cli_main(argv + (["--out", str(tmp_path)] if argv[1] == "toy" else [])) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("stronglth: error:") and message in err
    assert not any(tmp_path.iterdir()), "no output on bad input"
