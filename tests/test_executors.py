"""Where the work runs (stronglth/_executors.py): the process pool by default, Dask on request.

One small Dask LocalCluster (two single-threaded worker processes) serves the module: tickets and
sweep rows made on it equal the process pool's, byte for byte and row for row; a worker killed
mid-sweep loses no finished row; the CLI reaches it with --scheduler; --executor dask-local starts
its own. Nothing of the core imports Dask.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import distributed
import pytest

from stronglth import random_target, sweep
from stronglth._executors import open_executor, parse_executor, run_chains, run_tasks
from stronglth.cli import main
from stronglth.constructions import construct
from stronglth.errors import InvalidInputError, MissingExtraError
from stronglth.experiments import get_experiment
from stronglth.experiments.toy import ToyCell


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    with cluster, distributed.Client(cluster) as c:
        yield c


def rows_of(directory):
    return {h: (r.config, r.result) for h, r in sweep.load_rows(directory).items()}


def ticket_bytes(tmp_path, name, **kwargs):
    target = random_target(3, [4, 2], seed=7)
    options = dict(eps=0.3, seed=7, block_sizes=[3000, 1500], progress=False, on_failure="best_effort")
    return construct(target, **options, **kwargs).save(tmp_path / f"{name}.npz").read_bytes()


def test_executor_arguments_are_checked():
    assert parse_executor(None).kind == parse_executor("process").kind == "process"
    assert parse_executor("dask-local").kind == "dask-local"
    assert parse_executor("tcp://10.0.0.1:8786").address == "tcp://10.0.0.1:8786"
    for bad in ("dask", "tcp://", "slurm", 3, 2.0):
        with pytest.raises(InvalidInputError, match="executor"):
            parse_executor(bad)
    with pytest.raises(InvalidInputError, match="executor"):
        construct(random_target(2, [2], seed=0), eps=0.3, seed=0, executor="threads")


def test_chains_and_tasks_give_the_same_results_on_any_executor():
    def follow(key, result):
        return result + 1 if result < key * 10 else None

    seen = {}

    def record(key, result):
        seen.setdefault(key, []).append(result)
        return follow(key, result)

    run_chains(None, abs, {k: k for k in range(4)}, record)
    serial = dict(seen)
    seen.clear()
    with open_executor("process", 2) as (pool, workers):
        assert workers == 2
        run_chains(pool, abs, {k: k for k in range(4)}, record)
        assert list(run_tasks(pool, abs, [-3, 2, -1])) == [3, 2, 1]
    assert seen == serial


def test_tickets_on_dask_equal_the_process_pools(tmp_path, client):
    for selection in ("best", "first"):
        local = ticket_bytes(tmp_path, f"local-{selection}", selection=selection, jobs=2)
        assert ticket_bytes(tmp_path, f"dask-{selection}", selection=selection, executor=client) == local
    assert ticket_bytes(tmp_path, "serial") == ticket_bytes(tmp_path, "dask", executor=client)


def test_a_sweep_on_dask_has_the_process_pools_rows(tmp_path, client):
    experiment = get_experiment("toy")
    sweep.run(experiment, out=tmp_path / "pool", jobs=2, progress=False, write_report=False)
    summary = sweep.run(experiment, out=tmp_path / "dask", executor=client, progress=False, write_report=False)
    assert summary.computed == 20
    assert rows_of(tmp_path / "dask" / "toy") == rows_of(tmp_path / "pool" / "toy")
    again = sweep.run(experiment, out=tmp_path / "dask", executor=client, progress=False, write_report=False)
    assert again.computed == 0 and again.skipped == 20


def test_killing_a_worker_loses_no_finished_row(tmp_path, client):
    experiment = get_experiment("toy")
    configs = [ToyCell(seed=s, sleep=0.25) for s in range(12)]
    results = tmp_path / "dask" / "toy" / "results.jsonl"
    before: list[str] = []

    def kill_a_worker_after_two_rows():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            lines = results.read_text().splitlines() if results.exists() else []
            if len(lines) >= 2:
                before.extend(lines)
                pid = next(iter(client.run(os.getpid).values()))
                os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_worker_after_two_rows)
    killer.start()
    summary = sweep.run(experiment, out=tmp_path / "dask", configs=configs, executor=client, progress=False, write_report=False)
    killer.join()
    assert before, "no worker was killed"
    assert results.read_text().splitlines()[: len(before)] == before  # the rows written before the kill stay
    assert summary.computed == 12
    sweep.run(experiment, out=tmp_path / "pool", configs=configs, jobs=2, progress=False, write_report=False)
    assert rows_of(tmp_path / "dask" / "toy") == rows_of(tmp_path / "pool" / "toy")


def test_the_cli_reaches_a_scheduler_and_starts_a_local_cluster(tmp_path, client, capsys):
    address = client.scheduler.address
    assert main(["sweep", "toy", "--scheduler", address, "--out", str(tmp_path / "dask"), "--quiet", "--no-report"]) == 0
    assert main(["sweep", "toy", "--out", str(tmp_path / "pool"), "--quiet", "--no-report", "--jobs", "2"]) == 0
    assert rows_of(tmp_path / "dask" / "toy") == rows_of(tmp_path / "pool" / "toy")
    common = ["construct", "--d", "3", "--widths", "4", "2", "--target-seed", "7", "--eps", "0.3", "--seed", "7"]
    common += ["--block-sizes", "3000,1500", "--on-failure", "best_effort", "--quiet", "--samples", "100"]
    assert main([*common, "--selection", "first", "--out", str(tmp_path / "local.npz")]) == 0
    assert main([*common, "--selection", "first", "--scheduler", address, "--out", str(tmp_path / "remote.npz")]) == 0
    assert main([*common, "--selection", "first", "--executor", "dask-local", "--out", str(tmp_path / "own.npz")]) == 0
    local = (tmp_path / "local.npz").read_bytes()
    assert (tmp_path / "remote.npz").read_bytes() == local == (tmp_path / "own.npz").read_bytes()
    capsys.readouterr()
    assert main([*common, "--scheduler", address, "--executor", "process"]) == 2
    assert "--scheduler" in capsys.readouterr().err


def test_the_core_never_imports_dask():
    code = textwrap.dedent(
        """
        import importlib.abc, sys
        class Blocker(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("dask", "distributed"):
                    raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
        sys.meta_path.insert(0, Blocker())
        import stronglth as slth
        from stronglth import sweep
        from stronglth.experiments import get_experiment
        import stronglth.cli
        target = slth.random_target(2, [3, 1], seed=0)
        slth.construct(target, eps=0.3, seed=0, selection="first", jobs=2)
        try:
            slth.construct(target, eps=0.3, seed=0, executor="dask-local")
        except slth.errors.MissingExtraError as exc:
            assert "distributed" in str(exc)
        else:
            raise AssertionError("Dask was not missing")
        assert not {"dask", "distributed"} & set(sys.modules)
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_a_missing_distributed_extra_is_named(monkeypatch):
    import stronglth._executors as executors

    def missing(module, *, extra, purpose):
        raise MissingExtraError(f"{purpose} needs {module}: pip install 'stronglth[{extra}]'")

    monkeypatch.setattr(executors, "require", missing)
    with pytest.raises(MissingExtraError, match=r"stronglth\[distributed\]"):
        with open_executor("dask-local", 1):
            pass
