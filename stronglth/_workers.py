"""The package's process pools: workers that never outlive their parent, ignore Ctrl-C, and never
outnumber the CPUs.

Every pool of the package (the sweep engine's, the constructions') comes from
:func:`process_pool`, so that three guarantees hold everywhere:

- **No orphans.** A worker dies within about a second of its parent, however the parent ends
  (SIGKILL, SIGTERM, a crash). On Linux the kernel sends it SIGTERM when the parent dies
  (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon thread in the worker polls ``os.getppid()``
  every second (under the ``forkserver`` start method, whose workers are the server's children,
  that thread waits on the pool's process instead, Linux included). Without this, a killed sweep
  leaves workers computing cells nobody will read.
- **One Ctrl-C, one exception.** A terminal's Ctrl-C signals the whole process group. Workers
  ignore SIGINT (blocked from their start until then), so only the parent raises :class:`KeyboardInterrupt`; it then calls
  :meth:`ProcessPool.terminate` (the ``with`` block does) and the command prints one line, instead
  of one traceback per worker.
- **No oversubscription.** :func:`resolve_jobs` caps ``jobs`` at the CPUs this process may run on,
  with one line on stderr, rather than forking 200 workers on 8 cores.

This module imports only the standard library and :mod:`stronglth.errors`, so that any module of
the package may use it.
"""

from __future__ import annotations

import multiprocessing
import numbers
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from stronglth.errors import InvalidInputError

__all__ = ["available_cpus", "resolve_jobs", "process_pool", "ProcessPool"]

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCHDOG_SECONDS = 1.0  # how often a worker without PR_SET_PDEATHSIG looks for its parent
ORPHAN_EXIT_STATUS = 1

P = ParamSpec("P")
T = TypeVar("T")


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the OS has one (a ``taskset`` or a
    cluster job's allocation), else ``os.cpu_count()``; at least 1. CPU quotas of cgroups are not
    counted."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        try:
            return max(1, len(affinity(0)))
        except OSError:  # pragma: no cover - a kernel refusing the query
            pass
    return max(1, os.cpu_count() or 1)


def resolve_jobs(jobs: Any, *, name: str = "jobs") -> int:
    """``jobs`` as a number of worker processes: a positive integer (bools and floats, even
    ``2.0``, raise :class:`~stronglth.errors.InvalidInputError` naming ``name``), capped at
    :func:`available_cpus`.

    More workers than CPUs only adds memory and switching, so the cap is applied with one line on
    stderr (``stronglth: warning: ...``), printed rather than sent through :mod:`warnings`: the
    default warning format takes two lines and shows a warning once per call site, while a command
    line user should see it every time. Resolving an already resolved value prints nothing.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, numbers.Integral):
        raise InvalidInputError(f"{name} must be a positive integer, got {jobs!r} ({type(jobs).__name__})")
    value = int(jobs)
    if value < 1:
        raise InvalidInputError(f"{name} must be a positive integer, got {value}")
    cpus = available_cpus()
    if value > cpus:
        print(
            f"stronglth: warning: {name}={value} is more than the {cpus} CPU(s) available; using {cpus} worker process(es)",
            file=sys.stderr,
            flush=True,
        )
        return cpus
    return value


# -- in each worker ------------------------------------------------------------------------------


def _set_parent_death_signal() -> bool:
    """Ask Linux to send this process SIGTERM when its parent dies; False where that is impossible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError, ImportError):  # pragma: no cover - no libc, or no prctl in it
        return False
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return bool(prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) == 0)


def _orphaned(parent: int, direct: bool) -> bool:
    """Whether the process that made the pool is gone. A worker started by ``fork`` or ``spawn`` is
    its child (it is re-parented when it dies); one started by a ``forkserver`` is the server's
    child, so there the pool's process is looked up by pid instead."""
    if direct:
        return os.getppid() != parent
    try:
        os.kill(parent, 0)  # POSIX only: Windows has no forkserver
    except ProcessLookupError:
        return True
    except PermissionError:  # pragma: no cover - alive, owned by another user
        return False
    return False


def _watch_parent(parent: int, direct: bool) -> None:
    """Exit once the pool's process is gone. A ``forkserver`` worker waits on its parent sentinel, a
    pipe that only the pool's process holds open (readable at once when it dies, even before it is
    reaped); otherwise ``os.getppid()`` is polled every ``WATCHDOG_SECONDS``."""
    sentinel = None if direct else getattr(multiprocessing.parent_process(), "sentinel", None)
    if sentinel is not None:
        from multiprocessing.connection import wait

        wait([sentinel])
        os._exit(ORPHAN_EXIT_STATUS)
    while not _orphaned(parent, direct):
        time.sleep(WATCHDOG_SECONDS)
    os._exit(ORPHAN_EXIT_STATUS)


def _init_worker(parent: int, direct: bool, initializer: Callable[..., object] | None, initargs: tuple[Any, ...]) -> None:
    """The first thing each worker runs: ignore Ctrl-C, arrange to die with the parent, exit at once
    if the parent already died (before the death signal was armed), then the caller's initializer."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # blocked by ProcessPool.submit while this worker started
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    # A forkserver worker's parent is the server, which outlives the pool's process as long as its
    # workers live (they hold its "alive" pipe): the death signal alone would never come.
    if not _set_parent_death_signal() or not direct:
        threading.Thread(target=_watch_parent, args=(parent, direct), name="stronglth-parent-watchdog", daemon=True).start()
    if _orphaned(parent, direct):
        os._exit(ORPHAN_EXIT_STATUS)
    if initializer is not None:
        initializer(*initargs)


# -- in the parent -------------------------------------------------------------------------------


class ProcessPool(ProcessPoolExecutor):
    """A :class:`~concurrent.futures.ProcessPoolExecutor` whose workers die with the parent and
    ignore SIGINT (make one with :func:`process_pool`), plus :meth:`terminate`.

    As a context manager it waits for the submitted work when the block ends normally (as the base
    class does) and calls :meth:`terminate` when the block raises (Ctrl-C, a failed task), so an
    interrupted run neither waits for cells nobody will read nor leaves workers behind.
    """

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """As :meth:`ProcessPoolExecutor.submit`, with SIGINT blocked meanwhile in this thread: the
        workers it starts inherit the mask, so that a Ctrl-C while a worker starts (a fresh
        interpreter's imports, under ``spawn``) stays pending until its initializer ignores it,
        instead of a traceback per worker. A Ctrl-C meanwhile reaches this process right after."""
        if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
            return super().submit(fn, *args, **kwargs)
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return super().submit(fn, *args, **kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def terminate(self, timeout: float = 10.0) -> None:
        """Stop now: cancel the queued work, SIGTERM the running workers and reap them (SIGKILL for
        one still alive after ``timeout`` seconds). The futures not done end cancelled or with
        :class:`~concurrent.futures.process.BrokenProcessPool`. Idempotent; the pool is unusable
        afterwards."""
        # Python 3.14 has terminate_workers(); before it, the workers are only in _processes.
        processes = list((getattr(self, "_processes", None) or {}).values())
        manager = getattr(self, "_executor_manager_thread", None)
        self.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            try:
                process.terminate()
            except (OSError, ValueError):  # already reaped, or closed
                pass
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                process.join(max(0.0, deadline - time.monotonic()))
                if process.is_alive():  # pragma: no cover - a worker ignoring SIGTERM
                    process.kill()
                    process.join()
            except (OSError, ValueError):  # pragma: no cover
                pass
        if manager is not None and manager is not threading.current_thread():
            manager.join(max(0.0, deadline - time.monotonic()))  # it sees the workers gone and exits

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is None:
            self.shutdown(wait=True)
        else:
            self.terminate()


def process_pool(
    jobs: int,
    *,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[Any, ...] = (),
    mp_context: BaseContext | None = None,
) -> ProcessPool:
    """A pool of ``resolve_jobs(jobs)`` worker processes that die with this process and ignore SIGINT.

    ``initializer(*initargs)`` runs in each worker after that setup, as with
    :class:`~concurrent.futures.ProcessPoolExecutor`; ``mp_context`` defaults to
    ``multiprocessing.get_context()``. Use it in a ``with`` block, or call :meth:`ProcessPool.terminate`
    on ``KeyboardInterrupt``. On Linux the kernel's parent-death signal follows the *thread* that
    started the workers (the first ``submit``, for ``fork``): submit from a thread that outlives the
    pool, such as the main thread.
    """
    jobs = resolve_jobs(jobs)
    context = mp_context if mp_context is not None else multiprocessing.get_context()
    direct = context.get_start_method() != "forkserver"
    return ProcessPool(
        max_workers=jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(os.getpid(), direct, initializer, tuple(initargs)),
    )
