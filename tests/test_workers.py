"""The package's process pools (stronglth/_workers.py): workers die with their parent (SIGKILL or
SIGTERM of it, on Linux by the kernel's parent-death signal, elsewhere by a watchdog thread),
ignore Ctrl-C (one line and exit 130 from the command), and never outnumber the CPUs.

The tests that kill a parent run it in a session of its own (``start_new_session=True``) and kill
that whole group in a ``finally``, so a failing test leaves no process behind. Every wait polls up
to a generous deadline; only the death of the workers has a tight bound (``DEATH_SECONDS``)."""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from stronglth import _workers, sweep
from stronglth._workers import available_cpus, process_pool, resolve_jobs
from stronglth.errors import InvalidInputError
from stronglth.experiments import get_experiment
from stronglth.experiments.toy import ToyCell

DEATH_SECONDS = 5.0  # the bound on how long a worker may outlive its parent
STARTUP_SECONDS = 120.0  # generous: a loaded 2-core machine importing numpy in a fresh interpreter
WORKERS = min(2, available_cpus())  # process_pool(2) on a 1-CPU machine has one worker

linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to list a process's children")


# -- helpers: processes ------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int] | None:
    """``(state, ppid)`` of ``pid`` from /proc, or None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
    return fields[0], int(fields[1])


def gone(pid: int) -> bool:
    """Dead: no such process, or a zombie (dead, waiting to be reaped by whoever adopted it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # pragma: no cover - a pid reused by another user's process
        return True
    info = _stat(pid)
    return info is None or info[0] in ("Z", "X")


def children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            info = _stat(int(entry.name))
            if info is not None and info[1] == pid and info[0] not in ("Z", "X"):
                out.add(int(entry.name))
    return out


def seconds_until_gone(pids: set[int], start: float, limit: float = DEATH_SECONDS) -> float:
    """Poll until every pid is gone; the seconds since ``start`` (fails past ``limit``)."""
    while True:
        alive = {p for p in pids if not gone(p)}
        elapsed = time.monotonic() - start
        if not alive:
            return elapsed
        if elapsed > limit:
            pytest.fail(f"worker(s) {sorted(alive)} still alive {elapsed:.1f} s after their parent died")
        time.sleep(0.02)


def poll(condition, timeout: float, what: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process ended (status {process.returncode}) before {what}")
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def start(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen, pids: set[int]) -> None:
    """Kill whatever is left of the process's group and the given pids, and reap the process."""
    for kill, target in [(os.killpg, process.pid)] + [(os.kill, pid) for pid in pids if not gone(pid)]:
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        process.wait(timeout=60)
    finally:
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def line_reader(process: subprocess.Popen) -> queue.Queue:
    """The process's stdout lines, read by a thread (a blocking read cannot time out)."""
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.strip())

    threading.Thread(target=pump, daemon=True).start()
    return lines


# -- workers die with their parent -----------------------------------------------------------------------

POOL_SCRIPT = """
    import multiprocessing, sys, time
    import stronglth._workers as workers
    from announce import announce  # the caller's initializer, chained after the pool's own

    mode, method = sys.argv[1:]
    if mode == "watchdog":  # as on a system without prctl: the watchdog thread alone (fork only: inherited)
        workers._set_parent_death_signal = lambda: False
    pool = workers.process_pool(2, initializer=announce, mp_context=multiprocessing.get_context(method))
    futures = [pool.submit(time.sleep, 300) for _ in range(2)]  # busy workers (and an idle one on 1 CPU)
    time.sleep(300)
"""

ANNOUNCE = """
import os

def announce():
    os.write(1, f"{os.getpid()}\\n".encode())  # one write: two workers' lines never interleave
"""

START_METHODS = [
    ("fork", "pdeathsig"),
    ("fork", "watchdog"),
    ("spawn", "pdeathsig"),
    ("forkserver", "sentinel"),  # the server's children: a watchdog waits on the pool's process, Linux included
]


@linux_only
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("method, mode", START_METHODS, ids=[f"{m}-{w}" for m, w in START_METHODS])
def test_pool_workers_die_with_their_parent(tmp_path, how, method, mode):
    assert method in multiprocessing.get_all_start_methods()  # Linux has all three
    (tmp_path / "announce.py").write_text(ANNOUNCE)
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    process = start(POOL_SCRIPT, mode, method, env={**os.environ, "PYTHONPATH": path})
    pids: set[int] = set()
    try:
        lines = line_reader(process)
        for _ in range(WORKERS):
            try:
                pids.add(int(lines.get(timeout=STARTUP_SECONDS)))
            except queue.Empty:
                pytest.fail(f"no worker announced itself: {process.poll()=}")
        if method != "forkserver":  # (spawn starts a resource tracker too)
            assert pids <= children(process.pid), "the announced pids are the parent's children"
        killed = time.monotonic()
        os.kill(process.pid, how)  # the parent alone: its workers must follow by themselves
        process.wait(timeout=60)
        assert process.returncode == -how
        print(f"{method}/{mode}, parent {how.name}: workers gone after {seconds_until_gone(pids, killed):.3f} s")
    finally:
        stop(process, pids)


SWEEP_SCRIPT = """
    import sys
    from stronglth import sweep
    from stronglth.experiments import get_experiment
    from stronglth.experiments.toy import ToyCell

    sweep.run(get_experiment("toy"), out=sys.argv[1], jobs=2, progress=False,
              configs=[ToyCell(seed=s, sleep=0.5) for s in range(40)])
"""


@linux_only
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_sweep_workers_die_with_the_sweep(tmp_path, how):
    results = tmp_path / "toy" / "results.jsonl"
    process = start(SWEEP_SCRIPT, str(tmp_path))
    pids: set[int] = set()
    try:
        poll(lambda: results.exists() and results.read_bytes().count(b"\n") >= 1, STARTUP_SECONDS, "a first row", process)
        pids = poll(lambda: (c := children(process.pid)) and len(c) >= WORKERS and c, STARTUP_SECONDS, "the workers", process)
        killed = time.monotonic()
        os.kill(process.pid, how)
        process.wait(timeout=60)
        assert process.returncode == -how
        print(f"sweep, parent {how.name}: workers gone after {seconds_until_gone(pids, killed):.3f} s")
    finally:
        stop(process, pids)
    rows = sweep.read_rows(results)
    assert 0 < len(rows) < 40 and results.read_bytes().endswith(b"\n")


def test_a_worker_whose_parent_is_already_gone_exits_at_once():
    """The race the initializer closes: the parent died before the death signal was armed."""
    script = """
        import os, signal, sys
        from stronglth._workers import _init_worker
        if sys.argv[1] == "alive":  # the real parent: the caller's initializer runs, SIGINT is ignored
            _init_worker(os.getppid(), True, print, ("initialized",))
            print(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)
        elif sys.argv[1] == "direct":  # a fork/spawn worker whose parent pid is not its parent's any more
            _init_worker(os.getpid(), True, print, ("initialized",))
        else:  # a forkserver worker whose pool's process is gone
            _init_worker(int(sys.argv[2]), False, print, ("initialized",))
        print("survived")
    """
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=STARTUP_SECONDS)
    for args, status, out in [
        (["alive"], 0, "initialized\nTrue\nsurvived\n"),
        (["direct"], _workers.ORPHAN_EXIT_STATUS, ""),
        (["server", str(dead.pid)], _workers.ORPHAN_EXIT_STATUS, ""),
    ]:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(script), *args], capture_output=True, text=True, timeout=STARTUP_SECONDS
        )
        assert (done.returncode, done.stdout) == (status, out), done.stderr


# -- in this process: SIGINT ignored, initializer chained, terminate -----------------------------------------


def _state() -> tuple[object, bool, str | None]:
    blocked = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    return signal.getsignal(signal.SIGINT), blocked, os.environ.get("STRONGLTH_TEST_INITIALIZED")


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_workers_ignore_sigint_and_run_the_callers_initializer():
    with process_pool(2, initializer=os.environ.__setitem__, initargs=("STRONGLTH_TEST_INITIALIZED", "yes")) as pool:
        assert isinstance(pool, _workers.ProcessPool)
        assert pool.submit(_state).result(timeout=STARTUP_SECONDS) == (signal.SIG_IGN, False, "yes")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "the parent's own handler is untouched"
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, []), "nor its signal mask"


@linux_only
@pytest.mark.parametrize("how", ["terminate", "exception"])
def test_an_interrupted_pool_stops_its_running_tasks_at_once(how):
    before = children(os.getpid())
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="stop"):
        with process_pool(2) as pool:
            futures = [pool.submit(time.sleep, 300) for _ in range(2)]
            pids = poll(lambda: (c := children(os.getpid()) - before) and len(c) >= WORKERS and c, STARTUP_SECONDS, "the workers")
            if how == "terminate":
                pool.terminate()
                pool.terminate()  # idempotent
            raise RuntimeError("stop")  # the block raising terminates the pool on its way out
    assert time.monotonic() - started < 60, "did not wait for the 300 s tasks"
    assert all(future.done() for future in futures)
    assert all(gone(p) for p in pids) and not children(os.getpid()) - before


# -- Ctrl-C: one line, exit 130 ------------------------------------------------------------------------------

CLI_SCRIPT = """
    import dataclasses, sys
    from stronglth import cli
    from stronglth.experiments import EXPERIMENTS
    from stronglth.experiments.toy import ToyCell

    # `stronglth sweep toy` with a grid slow enough to interrupt: 4 quick cells, then long ones
    EXPERIMENTS["toy"] = dataclasses.replace(
        EXPERIMENTS["toy"], grid=lambda full: [ToyCell(seed=s, sleep=0.05 if s < 4 else 300.0) for s in range(12)]
    )
    sys.exit(cli.main(["sweep", "toy", "--jobs", "2", "--out", sys.argv[1]]))
"""


@linux_only
def test_ctrl_c_is_one_line_and_exit_130_and_keeps_the_rows(tmp_path):
    results = tmp_path / "toy" / "results.jsonl"
    process = start(CLI_SCRIPT, str(tmp_path))
    pids: set[int] = set()
    try:
        poll(lambda: results.exists() and results.read_bytes().count(b"\n") >= 4, STARTUP_SECONDS, "the quick rows", process)
        pids = poll(lambda: (c := children(process.pid)) and len(c) >= WORKERS and c, STARTUP_SECONDS, "the workers", process)
        interrupted = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
        _, err = process.communicate(timeout=120)
        elapsed = time.monotonic() - interrupted
        print(f"Ctrl-C: exit {process.returncode} after {elapsed:.3f} s")
    finally:
        stop(process, pids)
    expected = ["stronglth: interrupted"]
    lines = err.splitlines()
    if WORKERS < 2:  # a 1-CPU machine: --jobs 2 is capped, with its warning line first
        assert lines[0].startswith("stronglth: warning: jobs=2")
        lines = lines[1:]
    assert lines == expected, err
    assert process.returncode == 130
    assert elapsed < 60, "the running 300 s cells were stopped, not awaited"
    assert all(gone(p) for p in pids), "no worker left behind"
    rows = sweep.read_rows(results)
    assert sorted(r.config["seed"] for r in rows) == [0, 1, 2, 3] and results.read_bytes().endswith(b"\n")


SPAWN_SCRIPT = """
    import multiprocessing, os, sys, time
    from stronglth._workers import process_pool

    if __name__ == "__main__":
        try:
            with process_pool(2, mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = [pool.submit(os.getpid) for _ in range(4)]
                print("submitted", flush=True)  # the workers are fresh interpreters, still importing
                try:
                    time.sleep(300)
                except KeyboardInterrupt:  # the workers go on starting, then run their tasks
                    assert all(f.result(timeout=120) > 0 for f in futures)
                    raise
        except KeyboardInterrupt:
            print("stronglth: interrupted", file=sys.stderr)
            sys.exit(130)
"""


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask") or not hasattr(os, "killpg"), reason="POSIX signals")
def test_ctrl_c_while_spawned_workers_start_is_still_one_line(tmp_path):
    """A spawned worker imports for a while before its initializer runs: SIGINT stays blocked
    (ProcessPool.submit blocks it while starting workers) until the initializer ignores it."""
    script = tmp_path / "spawning.py"  # a file: spawn re-imports the main module
    script.write_text(textwrap.dedent(SPAWN_SCRIPT))
    process = subprocess.Popen(
        [sys.executable, str(script)], start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        lines = line_reader(process)
        assert lines.get(timeout=STARTUP_SECONDS) == "submitted"
        os.killpg(process.pid, signal.SIGINT)  # while the workers start, most likely
        process.wait(timeout=STARTUP_SECONDS)
        assert process.stderr is not None
        err = process.stderr.read()
    finally:
        stop(process, set())
    expected = "stronglth: interrupted\n"
    if WORKERS < 2:
        err = "".join(line for line in err.splitlines(keepends=True) if not line.startswith("stronglth: warning:"))
    assert (process.returncode, err) == (130, expected)


# -- jobs ------------------------------------------------------------------------------------------------------


def test_jobs_above_the_cpus_are_capped_with_one_line(monkeypatch, capsys):
    monkeypatch.setattr(_workers, "available_cpus", lambda: 4)
    assert resolve_jobs(200) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("stronglth: warning: jobs=200") and "4 CPU" in err
    assert resolve_jobs(4) == 4 and resolve_jobs(1) == 1 and resolve_jobs(np.int64(3)) == 3
    assert type(resolve_jobs(np.int64(3))) is int
    assert capsys.readouterr().err == "", "no message at or below the cap"


def test_the_real_cap_is_the_cpus_this_process_may_use(capsys):
    assert available_cpus() >= 1
    assert resolve_jobs(10**6) == available_cpus()
    assert "stronglth: warning" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [0, -1, True, False, 2.0, "2", None, np.float64(2.0)])
def test_bad_jobs_are_refused(bad):
    with pytest.raises(InvalidInputError, match="jobs must be a positive integer"):
        resolve_jobs(bad)
    with pytest.raises(InvalidInputError, match="--jobs must"):
        resolve_jobs(bad, name="--jobs")


def test_a_sweep_with_too_many_jobs_is_capped_and_completes(tmp_path, capsys):
    configs = [ToyCell(seed=s) for s in range(6)]
    summary = sweep.run(get_experiment("toy"), out=tmp_path, jobs=10**6, configs=configs, progress=False)
    assert summary.computed == 6
    assert capsys.readouterr().err.count("stronglth: warning: jobs=1000000") == 1
