"""The ``stronglth sweep`` and ``stronglth plot`` commands (engine: :mod:`stronglth.sweep`).

    stronglth sweep NAME [--full] [--jobs N] [--shard i/N] [--out DIR] [--executor dask-local | --scheduler ADDRESS]
    stronglth sweep merge DIR... [--out DEST]
    stronglth plot DIR

NAME is an experiment of :data:`stronglth.experiments.EXPERIMENTS` (``stronglth sweep --help`` lists them).

:func:`add_parser` registers both commands on the subparsers of ``stronglth``'s parser; every
handler raises :class:`~stronglth.errors.StrongLTHError` on bad input (the command prints one
line and exits 2), and checks its output directory (:func:`stronglth._io.check_output_path`) before
computing anything.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from stronglth import _validate, sweep
from stronglth._io import check_output_path
from stronglth.cli._executor import add_executor_arguments, executor_from_args
from stronglth.errors import InvalidInputError
from stronglth.experiments import EXPERIMENTS, get_experiment

__all__ = ["add_parser", "DEFAULT_OUT", "DEFAULT_OUT_FULL"]

DEFAULT_OUT = "experiments/results"
DEFAULT_OUT_FULL = "experiments/results-full"


def _existing_directory(path: str, what: str = "directory") -> Path:
    """``Path(path)`` if it is an existing directory, else an InvalidInputError saying what it is."""
    directory = Path(path)
    if directory.is_dir():
        return directory
    if directory.exists():
        raise InvalidInputError(f"{directory}: not a directory (a {what} is needed here)")
    raise InvalidInputError(f"{directory}: no such directory")


def _cmd_sweep(args: argparse.Namespace) -> int:
    _validate.positive_int(args.jobs, "--jobs")
    executor = executor_from_args(args)
    shard = sweep.parse_shard(args.shard)
    out = args.out if args.out is not None else (DEFAULT_OUT_FULL if args.full else DEFAULT_OUT)
    check_output_path(out, kind="directory")
    check_output_path(Path(out) / args.experiment, kind="directory")
    summary = sweep.run(
        get_experiment(args.experiment),
        out=out,
        full=args.full,
        jobs=args.jobs,
        shard=shard,
        progress=False if args.quiet else None,
        write_report=not args.no_report,
        experiments=EXPERIMENTS,
        executor=executor,
    )
    where = f" shard {shard[0]}/{shard[1]}" if shard else ""
    print(
        f"{summary.experiment}{where}: {summary.cells} cells, {summary.skipped} already done, {summary.computed} computed"
        f" in {sweep.format_duration(summary.seconds)}; rows in {summary.results_file}"
    )
    if shard is not None:
        print(f"when every shard is done: stronglth sweep merge {out}")
    for path in summary.report_files:
        print(f"  wrote {path}")
    return 0


def _cmd_merge(args: argparse.Namespace) -> int:
    for source in args.dirs:
        _existing_directory(source, "sweep output directory")
    check_output_path(args.out if args.out is not None else args.dirs[0], kind="directory")
    summary = sweep.merge(args.dirs, args.out, write_report=not args.no_report, experiments=EXPERIMENTS)
    for name in sorted(summary.total):
        print(
            f"{name}: {summary.appended[name]} rows appended,"
            f" {summary.total[name]} in {summary.destination / name / 'results.jsonl'}"
        )
    if summary.conflicts:
        print(
            f"warning: {len(summary.conflicts)} cell(s) had different results in different files (kept the first):"
            f" {', '.join(summary.conflicts[:5])}{' ...' if len(summary.conflicts) > 5 else ''}"
        )
    for path in summary.report_files:
        print(f"  wrote {path}")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    root = _existing_directory(args.dir, "sweep output directory")
    check_output_path(root, kind="directory")
    directories = sweep.experiment_dirs(root)
    if not directories:
        raise InvalidInputError(f"{root}: no sweep results here (expected <experiment>/results.jsonl)")
    for directory in directories:
        names = sweep.experiment_names(directory)
        if len(names) != 1:
            raise InvalidInputError(f"{directory} mixes the rows of experiments {names}; keep one experiment per directory")
        for path in sweep.report(directory, experiment=get_experiment(names[0])):
            print(f"  wrote {path}")
    if directories != [root]:
        print(f"  wrote {sweep.write_index(root, EXPERIMENTS)}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``sweep`` (one sub-command per experiment, and ``merge``) and ``plot``."""
    experiments = EXPERIMENTS
    sweep_parser = subparsers.add_parser(
        "sweep", help="run a scaling experiment (resumable, parallel, shardable), or merge shards"
    )
    sweep_sub = sweep_parser.add_subparsers(
        dest="experiment",
        required=True,
        metavar="{" + ",".join([n for n, e in experiments.items() if not e.hidden] + ["merge"]) + "}",
    )
    for name, exp in experiments.items():
        sub = sweep_sub.add_parser(
            name,
            **({} if exp.hidden else {"help": exp.description}),
            description=f"{exp.description}. Finished cells are skipped on rerun; rows are written as cells finish.",
        )
        sub.add_argument(
            "--full",
            action="store_true",
            help="the full grid (tens of minutes or more) instead of the default (minutes on 2 cores)",
        )
        sub.add_argument("--jobs", type=int, default=1, help="processes running cells (default 1)")
        sub.add_argument(
            "--shard",
            default=None,
            metavar="i/N",
            help="run only shard i of N (0-based, e.g. $SLURM_ARRAY_TASK_ID/N); then `stronglth sweep merge`",
        )
        sub.add_argument(
            "--out",
            default=None,
            metavar="DIR",
            help=f"results directory (default {DEFAULT_OUT}, or {DEFAULT_OUT_FULL} with --full)",
        )
        add_executor_arguments(sub, "cells")
        sub.add_argument("--quiet", action="store_true", help="no progress bar")
        sub.add_argument("--no-report", action="store_true", help="write rows only (no CSV, PNG, summary)")
        sub.set_defaults(run=_cmd_sweep)
    merge = sweep_sub.add_parser("merge", help="append the rows of shard files and other result directories to one results.jsonl")
    merge.add_argument("dirs", nargs="+", metavar="DIR", help="sweep output directories (or experiment directories)")
    merge.add_argument("--out", default=None, metavar="DEST", help="merge into DEST (default: the first DIR)")
    merge.add_argument("--no-report", action="store_true", help="do not regenerate CSV, PNG, summary")
    merge.set_defaults(run=_cmd_merge)

    plot = subparsers.add_parser("plot", help="regenerate the CSV, PNG and summary of sweep results")
    plot.add_argument("dir", metavar="DIR", help="a sweep output directory (or one experiment's directory)")
    plot.set_defaults(run=_cmd_plot)
