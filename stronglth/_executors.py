"""Where the package's parallel work runs: this process, a local process pool, or a Dask cluster.

Sweeps (one task per cell) and the Malach construction (one task per piece of a block of G) take
``executor=``:

- ``None`` or ``"process"``: the default, :func:`stronglth._workers.process_pool` with ``jobs``
  workers (or this process alone for ``jobs=1``);
- ``"dask-local"``: a Dask ``LocalCluster`` of ``jobs`` single-threaded worker processes on this machine;
- a scheduler address (``"tcp://host:8786"``, ``"tls://..."``, any string with ``://``): a running
  Dask scheduler, e.g. one that ``dask-jobqueue``'s ``SLURMCluster`` started (docs/cluster.md);
- a ``distributed.Client`` or any :class:`concurrent.futures.Executor`: used as given (not closed).

Dask (the ``distributed`` extra) is imported only when asked for. Every result is assembled in
the caller's process in a fixed order, so the executor never changes a ticket's bytes or a sweep's
rows; and tasks are pure functions of their arguments, so a task lost with a killed worker is
simply run again elsewhere (Dask does this itself).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import Any, TypeVar

from stronglth._extras import require
from stronglth._workers import process_pool, resolve_jobs
from stronglth.errors import InvalidInputError

__all__ = ["EXECUTORS", "ExecutorSpec", "parse_executor", "open_executor", "run_tasks", "run_chains"]

EXECUTORS = ("process", "dask-local")
"""The executors named by a word; anything else is a scheduler address or an executor object."""

T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class ExecutorSpec:
    """A checked ``executor=`` argument: ``kind`` is ``"process"``, ``"dask-local"``, ``"dask"``
    (``address`` set) or ``"given"`` (``given``: a Client or an Executor)."""

    kind: str
    address: str | None = None
    given: Any = None

    @property
    def label(self) -> str:
        """A short description for messages and plans."""
        if self.kind == "dask":
            return f"dask scheduler {self.address}"
        if self.kind == "given":
            return type(self.given).__name__
        return self.kind


def parse_executor(executor: Any) -> ExecutorSpec:
    """``executor`` checked (module docstring); bad values raise
    :class:`~stronglth.errors.InvalidInputError` naming the choices."""
    if isinstance(executor, ExecutorSpec):
        return executor
    if executor is None or executor == "process":
        return ExecutorSpec("process")
    if executor == "dask-local":
        return ExecutorSpec("dask-local")
    if isinstance(executor, str):
        if "://" in executor and executor.split("://", 1)[1].strip():
            return ExecutorSpec("dask", address=executor.strip())
        raise InvalidInputError(
            f"executor must be one of {EXECUTORS}, a Dask scheduler address like tcp://host:8786,"
            f" a distributed.Client or a concurrent.futures.Executor; got {executor!r}"
        )
    if isinstance(executor, Executor) or _is_dask_client(executor):
        return ExecutorSpec("given", given=executor)
    raise InvalidInputError(
        f"executor must be one of {EXECUTORS}, a Dask scheduler address, a distributed.Client or an Executor;"
        f" got {type(executor).__name__}"
    )


def _is_dask_client(obj: Any) -> bool:
    return type(obj).__name__ == "Client" and type(obj).__module__.startswith("distributed")


class _DaskExecutor(Executor):
    """A Dask client seen as a :class:`concurrent.futures.Executor` whose futures are plain
    ``concurrent.futures.Future`` objects (so that :func:`concurrent.futures.wait` takes them).
    Tasks are submitted with ``pure=False`` (never deduplicated against another run's keys)."""

    def __init__(self, client: Any):
        self.client = client
        self.workers = max(1, sum(client.nthreads().values()))

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        dask_future = self.client.submit(fn, *args, pure=False, **kwargs)
        future: Future[T] = Future()
        future.set_running_or_notify_cancel()

        def done(f: Any) -> None:
            try:
                future.set_result(f.result())
            except BaseException as exc:  # the task's own exception (pickled back), or a lost worker
                future.set_exception(exc)

        dask_future.add_done_callback(done)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to do: the client belongs to :func:`open_executor` or to the caller."""


@contextlib.contextmanager
def open_executor(executor: Any, jobs: int) -> Iterator[tuple[Executor | None, int]]:
    """``(executor, workers)`` for the ``with`` block: ``(None, 1)`` for the process default with
    ``jobs == 1`` (run in this process), else an :class:`~concurrent.futures.Executor` and its
    number of workers. What it starts (a pool, a LocalCluster, a client) it stops at the end."""
    spec = parse_executor(executor)
    jobs = resolve_jobs(jobs)
    if spec.kind == "process":
        if jobs == 1:
            yield None, 1
            return
        with process_pool(jobs) as pool:
            yield pool, jobs
        return
    if spec.kind == "given":
        if isinstance(spec.given, Executor):
            yield spec.given, max(1, getattr(spec.given, "_max_workers", jobs))
        else:
            wrapped = _DaskExecutor(spec.given)
            yield wrapped, wrapped.workers
        return
    distributed = require("distributed", extra="distributed", purpose=f"executor {spec.label!r}")
    with contextlib.ExitStack() as stack:
        if spec.kind == "dask-local":
            cluster = stack.enter_context(
                distributed.LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=":0")
            )
            client = stack.enter_context(distributed.Client(cluster))
        else:
            try:
                client = stack.enter_context(distributed.Client(spec.address, timeout="30s"))
            except OSError as exc:
                raise InvalidInputError(f"cannot reach the Dask scheduler at {spec.address}: {exc}") from None
        wrapped = _DaskExecutor(client)
        yield wrapped, wrapped.workers


def run_tasks(executor: Executor | None, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
    """``fn(item)`` for every item, results in the items' order: in this process when ``executor``
    is ``None``, else all submitted at once to ``executor``."""
    items = list(items)
    if executor is None:
        return map(fn, items)
    futures = [executor.submit(fn, item) for item in items]
    return (future.result() for future in futures)


def run_chains(
    executor: Executor | None,
    fn: Callable[[T], R],
    first: Mapping[K, T | None],
    follow: Callable[[K, R], T | None],
) -> None:
    """Run one chain of tasks per key: ``first[key]`` (``None``: nothing to run), then
    ``follow(key, result)`` as each result comes, until it returns ``None``. Chains run side by side
    on ``executor`` (one task each in flight), or one after the other in key order in this process;
    what a chain computes cannot depend on the others', so neither can the outcome on the executor."""
    if executor is None:
        for key, task in first.items():
            while task is not None:
                task = follow(key, fn(task))
        return
    pending: dict[Future[R], K] = {}
    for key, task in first.items():
        if task is not None:
            pending[executor.submit(fn, task)] = key
    while pending:
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in [f for f in pending if f in finished]:
            key = pending.pop(future)
            task = follow(key, future.result())
            if task is not None:
                pending[executor.submit(fn, task)] = key
