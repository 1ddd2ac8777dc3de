"""``--executor`` and ``--scheduler``: where ``stronglth sweep`` runs cells and ``stronglth construct``
scans G (:mod:`stronglth._executors`; running on a SLURM cluster: docs/cluster.md)."""

from __future__ import annotations

import argparse

from stronglth._executors import EXECUTORS
from stronglth.errors import InvalidInputError

__all__ = ["add_executor_arguments", "executor_from_args"]


def add_executor_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """``--executor`` and ``--scheduler``, shared by ``stronglth sweep`` and ``stronglth construct``."""
    parser.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=None,
        help=f"where {what} run: process (default: a local process pool of --jobs workers) or dask-local"
        " (a Dask LocalCluster of --jobs workers; needs the distributed extra)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help=f"run {what} on the Dask scheduler at ADDRESS (e.g. tcp://host:8786, as dask-jobqueue's SLURMCluster"
        " starts it; docs/cluster.md)",
    )


def executor_from_args(args: argparse.Namespace) -> str | None:
    """The ``executor=`` argument that ``--executor`` / ``--scheduler`` name (``None``: the default)."""
    if args.scheduler is not None:
        if args.executor not in (None, "dask"):
            raise InvalidInputError(f"--scheduler runs on a Dask cluster: it cannot go with --executor {args.executor}")
        address = args.scheduler.strip()
        if not address:
            raise InvalidInputError("--scheduler needs an address like tcp://host:8786")
        return address if "://" in address else f"tcp://{address}"
    return args.executor
