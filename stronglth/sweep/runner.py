"""Running a sweep: serial, in a local process pool, on a Dask cluster, or one shard of a cluster array job.

Re-running skips every cell whose hash is in any ``*.jsonl`` of the experiment's directory, so a
run interrupted at any moment resumes where it stopped. One shard ``i`` of ``N`` (0-based, round
robin over the grid order: ``cells[i::N]``) is e.g. one task of a SLURM array job (``--shard
$SLURM_ARRAY_TASK_ID/N``), followed by :func:`~stronglth.sweep.merge`. A tqdm bar shows progress.
After an unsharded run the experiment's report is regenerated from every row in the directory.
With ``executor="dask-local"``, a Dask scheduler address or a ``distributed.Client``
(:mod:`stronglth._executors`) the cells run on Dask workers; the rows are still written here, by
the client alone, as cells finish (docs/cluster.md).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Executor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, overload

from stronglth._executors import open_executor, parse_executor
from stronglth._version import __version__
from stronglth._workers import process_pool, resolve_jobs
from stronglth.errors import CellFailed, InvalidInputError, StrongLTHError
from stronglth.sweep.config import canonical_json, config_hash, plain
from stronglth.sweep.experiment import Experiment
from stronglth.sweep.plugins import pack_by_value, unpack, write_manifest
from stronglth.sweep.reports import report, write_index
from stronglth.sweep.store import ResultWriter, Row, finite, load_rows, results_filename

__all__ = ["run", "RunSummary", "parse_shard", "shard_cells"]


@overload
def parse_shard(text: None) -> None: ...
@overload
def parse_shard(text: str | tuple[int, int]) -> tuple[int, int]: ...
def parse_shard(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"i/N"`` (0-based: ``0 <= i < N``, as ``$SLURM_ARRAY_TASK_ID`` with ``--array=0-(N-1)``) -> ``(i, N)``."""
    if text is None:
        return None
    if isinstance(text, tuple):
        i, n = text
    else:
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
        if m is None:
            raise InvalidInputError(f"--shard must look like i/N (for example 0/4), got {text!r}")
        i, n = int(m.group(1)), int(m.group(2))
    if isinstance(i, bool) or isinstance(n, bool) or not isinstance(i, int) or not isinstance(n, int):
        raise InvalidInputError(f"shard must be two integers (i, N), got {text!r}")
    if n < 1 or not 0 <= i < n:
        raise InvalidInputError(f"--shard i/N needs N >= 1 and 0 <= i < N (shards are 0-based), got {i}/{n}")
    return i, n


def shard_cells(cells: Sequence[Any], shard: tuple[int, int] | None) -> list[Any]:
    """Shard ``i`` of ``N``: the cells at positions ``i, i + N, i + 2N, ...`` of the grid order."""
    if shard is None:
        return list(cells)
    i, n = parse_shard(shard)
    return list(cells)[i::n]


@dataclass(frozen=True)
class RunSummary:
    experiment: str
    directory: Path
    results_file: Path
    cells: int  # in this (shard of the) grid
    skipped: int  # already finished before this run
    computed: int
    seconds: float
    report_files: tuple[Path, ...] = ()


def _execute(cell: Callable[[Any], dict[str, Any]], config: Any) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    result = cell(config)
    if not isinstance(result, dict):
        raise InvalidInputError(f"a cell must return a dict, got {type(result).__name__}")
    return finite(plain(result)), time.perf_counter() - start


def _make_row(experiment: Experiment, config: Any, digest: str, result: dict[str, Any], seconds: float) -> Row:
    fields = plain(config)
    return Row(
        hash=digest,
        experiment=experiment.name,
        type=fields["type"],
        config=fields["config"],
        result=result,
        seconds=float(seconds),
        version=__version__,
        finished=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _failed(config: Any, digest: str, exc: BaseException, saved: int) -> CellFailed:
    return CellFailed(
        f"cell {digest} ({canonical_json(config)}) failed: {exc}; the {saved} row(s) finished are saved, rerun to resume"
    )


def run(
    experiment: Experiment,
    *,
    out: str | os.PathLike = "experiments/results",
    full: bool = False,
    jobs: int = 1,
    shard: str | tuple[int, int] | None = None,
    configs: Iterable[Any] | None = None,
    progress: bool | None = None,
    write_report: bool = True,
    experiments: Mapping[str, Experiment] | None = None,
    executor: Any = None,
) -> RunSummary:
    """Compute every cell of ``experiment``'s grid (or of ``configs``) not yet in ``out/<name>/``.

    ``jobs > 1`` runs cells in a process pool (at most one worker per CPU: more is capped with a
    line on stderr); ``shard="i/N"`` runs only that shard and writes its own file. Rows are written
    as cells finish (flushed and fsync'd). An interruption (Ctrl-C, SIGTERM, SIGKILL) loses at most
    the cells in flight: Ctrl-C stops the workers at once and re-raises ``KeyboardInterrupt``, and
    workers never outlive the run; rerunning the same call resumes. After an unsharded
    run the report is regenerated from all rows (``write_report=False`` to skip it), and so is the
    index ``out/README.md``, whose sections take their descriptions and order from ``experiments``
    (default: this experiment alone; the CLI passes :data:`stronglth.experiments.EXPERIMENTS`).
    ``experiment`` is an :class:`~stronglth.sweep.Experiment`; look a name up with
    :func:`stronglth.experiments.get_experiment`. ``executor``: ``None``/``"process"`` (the process
    pool above), ``"dask-local"`` (a Dask LocalCluster of ``jobs`` workers), a Dask scheduler
    address or a ``distributed.Client``: the cells then run on Dask workers, a cell lost with a
    killed worker runs again on another, and the rows, identical to a local run's, are written here.
    """
    if not isinstance(experiment, Experiment):
        raise InvalidInputError(
            f"run() takes an Experiment, got {type(experiment).__name__}; look names up with stronglth.experiments.get_experiment"
        )
    exp = experiment
    jobs = resolve_jobs(jobs)
    shard = parse_shard(shard)
    spec = parse_executor(executor)
    started = time.perf_counter()
    grid = list(exp.grid(bool(full)) if configs is None else configs)
    unique: dict[str, Any] = {}
    for config in grid:
        if not isinstance(config, exp.config_type):
            raise InvalidInputError(
                f"experiment {exp.name!r} takes {exp.config_type.__name__} configs, got {type(config).__name__}"
            )
        unique.setdefault(config_hash(config), config)
    cells = shard_cells(list(unique.items()), shard)
    directory = Path(out) / exp.name
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInputError(f"{directory}: cannot make the results directory ({exc.strerror or exc})") from None
    write_manifest(directory, exp)  # a plugin experiment: where it comes from, for `plot` and `merge`
    path = directory / results_filename(shard)
    with contextlib.ExitStack() as stack:
        remote: tuple[Executor | None, int] = (None, 1)
        if spec.kind != "process":  # started before the results file is locked: its workers never hold the lock
            remote = stack.enter_context(open_executor(spec, jobs))
        writer = stack.enter_context(ResultWriter(path))
        done = set(load_rows(directory, experiment=exp.name))
        todo = [(h, c) for h, c in cells if h not in done]
        skipped = len(cells) - len(todo)
        computed = 0
        from tqdm.auto import tqdm

        label = exp.name + ("" if shard is None else f" shard {shard[0]}/{shard[1]}")
        with tqdm(
            total=len(cells), initial=skipped, desc=label, unit="cell", disable=(not progress) if progress is not None else None
        ) as bar:
            if remote[0] is not None and todo:
                # a plugin file's module cannot be imported on Dask's workers: its cells travel by value
                computed = _run_on(remote[0], 2 * remote[1], exp, todo, writer, bar, by_value=exp.origin.startswith("file:"))
            elif jobs == 1 or len(todo) <= 1:
                for digest, config in todo:
                    try:
                        result, seconds = _execute(exp.cell, config)
                    except StrongLTHError as exc:
                        raise _failed(config, digest, exc, computed) from exc
                    writer.append(_make_row(exp, config, digest, result, seconds))
                    computed += 1
                    bar.update(1)
            else:
                computed = _run_pool(exp, todo, jobs, writer, bar)
    files: tuple[Path, ...] = ()
    if write_report and shard is None and exp.report is not None:
        known = dict(experiments) if experiments is not None else {exp.name: exp}
        files = tuple(report(directory, experiment=exp)) + (write_index(Path(out), known),)
    return RunSummary(exp.name, directory, path, len(cells), skipped, computed, time.perf_counter() - started, files)


def _close_inherited(fd: int, device: int, inode: int) -> None:
    """In each worker: close its copy of the parent's locked results file, if it has one (``fork``);
    under another start method the same number may be another file, which is left alone."""
    try:
        st = os.fstat(fd)
    except OSError:
        return
    if (st.st_dev, st.st_ino) == (device, inode):
        os.close(fd)


def _run_pool(exp: Experiment, todo: list[tuple[str, Any]], jobs: int, writer: ResultWriter, bar: Any) -> int:
    """Cells in a process pool; the parent alone writes, each row as its cell finishes (:func:`_run_on`).
    On any exception (Ctrl-C, a failed cell, a full disk) the pool is terminated, running cells
    included, before it propagates: the rows written so far stay, each fsync'd."""
    # Workers are forked while the parent holds the results file's lock: each closes its inherited
    # descriptor first, so that the lock dies with the parent and never with a straggling worker.
    st = os.fstat(writer.fileno())
    with process_pool(jobs, initializer=_close_inherited, initargs=(writer.fileno(), st.st_dev, st.st_ino)) as pool:
        return _run_on(pool, 2 * jobs, exp, todo, writer, bar)


def _lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the executor lost a cell (a worker died, a cluster went away), not that
    the cell failed: a dead process pool, or one of Dask's own exceptions (``KilledWorker``, ...)."""
    return isinstance(exc, (BrokenProcessPool, CancelledError)) or type(exc).__module__.split(".")[0] in (
        "distributed",
        "tornado",
    )


def _execute_packed(payload: bytes) -> tuple[dict[str, Any], float]:
    """:func:`_execute` of a ``(cell, config)`` pair packed by :func:`stronglth.sweep.plugins.pack_by_value`."""
    return _execute(*unpack(payload))


def _run_on(
    executor: Executor,
    ahead: int,
    exp: Experiment,
    todo: list[tuple[str, Any]],
    writer: ResultWriter,
    bar: Any,
    by_value: bool = False,
) -> int:
    """Cells on ``executor`` (a process pool, a Dask client's executor), at most ``ahead`` submitted
    at a time so that an interruption abandons little work; rows are written here, in the order
    cells finish, each as soon as it finishes."""
    computed = 0
    pending: dict[Any, tuple[str, Any]] = {}
    queue = iter(todo)
    while True:
        while len(pending) < ahead:
            item = next(queue, None)
            if item is None:
                break
            try:
                if by_value:
                    pending[executor.submit(_execute_packed, pack_by_value(exp.cell, item[1]))] = item
                else:
                    pending[executor.submit(_execute, exp.cell, item[1])] = item
            except BrokenProcessPool as exc:  # a worker died (out of memory?), noticed before its cell's future
                raise CellFailed(
                    f"a worker process died: {exc}; the {computed} row(s) finished are saved, rerun to resume"
                ) from exc
        if not pending:
            break
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in [f for f in pending if f in finished]:  # in submission order among those finished together
            digest, config = pending.pop(future)
            try:
                result, seconds = future.result()
            except StrongLTHError as exc:
                raise _failed(config, digest, exc, computed) from exc
            except Exception as exc:  # a worker killed (out of memory?), a cluster gone
                if not _lost(exc):
                    raise
                raise _failed(config, digest, exc, computed) from exc
            writer.append(_make_row(exp, config, digest, result, seconds))
            computed += 1
            bar.update(1)
    return computed
