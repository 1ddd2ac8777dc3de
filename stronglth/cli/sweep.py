"""The ``stronglth sweep`` and ``stronglth plot`` commands (engine: :mod:`stronglth.sweep`).

    stronglth sweep [--module PATH_OR_MODULE] NAME [--full] [--jobs N] [--shard i/N] [--out DIR]
                    [--executor dask-local | --scheduler ADDRESS]
    stronglth sweep merge DIR... [--out DEST] [--module PATH_OR_MODULE]...
    stronglth plot DIR [--module PATH_OR_MODULE]...

NAME is an experiment of :data:`stronglth.experiments.EXPERIMENTS` (``stronglth sweep --help`` lists
them), the ``EXPERIMENT`` of the file or module given with ``--module``, or an installed entry point
of the group ``stronglth.experiments`` (:mod:`stronglth.sweep.plugins`; docs/guide-experiment.md).
A plugin experiment is loaded while the command line is parsed (its sub-command is registered then,
with the same options as a built-in's); ``plot`` and ``merge`` find it again from the
``experiment.json`` its run wrote, or from ``--module``.

:func:`add_parser` registers both commands on the subparsers of ``stronglth``'s parser; every
handler raises :class:`~stronglth.errors.StrongLTHError` on bad input (the command prints one
line and exits 2), and checks its output directory (:func:`stronglth._io.check_output_path`) before
computing anything.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stronglth import _validate, sweep
from stronglth._io import check_output_path
from stronglth.cli._executor import add_executor_arguments, executor_from_args
from stronglth.cli._parser import one_line
from stronglth.errors import InvalidInputError, StrongLTHError
from stronglth.experiments import EXPERIMENTS, experiment_of_directory, get_experiment
from stronglth.sweep import plugins

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
    experiment = getattr(args, "plugin", None) or get_experiment(args.experiment)
    if experiment.name in EXPERIMENTS and experiment.name in plugins.entry_point_names():
        print(
            f"stronglth: warning: the installed entry point {experiment.name!r} ({plugins.ENTRY_POINT_GROUP}) has the name of"
            " a built-in experiment and is ignored; rename it",
            file=sys.stderr,
        )
    summary = sweep.run(
        experiment,
        out=out,
        full=args.full,
        jobs=args.jobs,
        shard=shard,
        progress=False if args.quiet else None,
        write_report=not args.no_report,
        experiments={**EXPERIMENTS, experiment.name: experiment},
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
    modules = _modules(args)
    known = {**EXPERIMENTS, **{e.name: e for e in modules}}
    missing: dict[str, str] = {}
    if not args.no_report:
        for source in args.dirs:
            for directory in sweep.experiment_dirs(source):
                for name in sweep.experiment_names(directory):
                    if name not in known:
                        try:
                            known[name] = experiment_of_directory(directory, name, modules=modules)
                        except InvalidInputError as exc:
                            missing.setdefault(name, str(exc))
    summary = sweep.merge(args.dirs, args.out, write_report=not args.no_report, experiments=known)
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
    for name, reason in sorted(missing.items()):
        print(f"note: rows of {name!r} merged, but no report written: {one_line(reason)}")
    return 0


def _modules(args: argparse.Namespace) -> tuple[sweep.Experiment, ...]:
    """The experiments of every ``--module`` given (``stronglth sweep --module X merge`` included)."""
    given = [m for m in [getattr(args, "plugin_module", None), *getattr(args, "modules", [])] if m is not None]
    return tuple(plugins.load_experiment(m, reserved=EXPERIMENTS) for m in given)


def _cmd_plot(args: argparse.Namespace) -> int:
    root = _existing_directory(args.dir, "sweep output directory")
    check_output_path(root, kind="directory")
    directories = sweep.experiment_dirs(root)
    if not directories:
        raise InvalidInputError(f"{root}: no sweep results here (expected <experiment>/results.jsonl)")
    modules = _modules(args)
    known = dict(EXPERIMENTS)
    for directory in directories:
        names = sweep.experiment_names(directory)
        if len(names) != 1:
            raise InvalidInputError(f"{directory} mixes the rows of experiments {names}; keep one experiment per directory")
        experiment = experiment_of_directory(directory, names[0], modules=modules)
        known[experiment.name] = experiment
        plugins.write_manifest(directory, experiment)  # --module given: plot and merge find it next time
        for path in sweep.report(directory, experiment=experiment):
            print(f"  wrote {path}")
    if directories != [root]:
        print(f"  wrote {sweep.write_index(root, known)}")
    return 0


class _ExperimentCommands(argparse._SubParsersAction):
    """The sub-commands of ``stronglth sweep``: the built-ins and ``merge`` are registered up front;
    a plugin experiment (``--module``, before or after NAME, or an installed entry point) is loaded
    and registered when its NAME is parsed, with the same options as a built-in. Its ``choices``
    are cleared, so that argparse hands over a NAME it does not know yet instead of refusing it
    (an unknown NAME is refused here, by :func:`~stronglth.experiments.get_experiment`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = None  # type: ignore[assignment]

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: Any = None
    ) -> None:
        name, rest = values[0], list(values[1:])
        if name != "merge":
            try:
                module, rest = _pop_module(rest, getattr(namespace, "plugin_module", None))
                if module is not None or name not in self._name_parser_map:
                    experiment = get_experiment(name, module=module)
                    namespace.plugin = experiment
                    _add_experiment_parser(self, experiment)
            except StrongLTHError as exc:
                parser.exit(2, f"stronglth: error: {one_line(exc)}\n")
        super().__call__(parser, namespace, [name, *rest], option_string)


def _pop_module(rest: Sequence[str], module: str | None) -> tuple[str | None, list[str]]:
    """``--module X`` (or ``--module=X``) taken out of the arguments after NAME."""
    out: list[str] = []
    items = iter(rest)
    for item in items:
        if item == "--module":
            module = next(items, None)
            if module is None:
                raise InvalidInputError("--module needs a .py file or a dotted module name")
        elif item.startswith("--module="):
            module = item.split("=", 1)[1]
        else:
            out.append(item)
    return module, out


def _add_experiment_parser(sweep_sub: argparse._SubParsersAction, exp: sweep.Experiment) -> None:
    listed: dict[str, Any] = {} if exp.hidden else {"help": exp.description}  # hidden: not in --help
    sub = sweep_sub.add_parser(
        exp.name,
        description=f"{exp.description}. Finished cells are skipped on rerun; rows are written as cells finish.",
        **listed,
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


MODULE_HELP = "the .py file or dotted module defining EXPERIMENT, a plugin experiment (docs/guide-experiment.md)"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``sweep`` (one sub-command per experiment, and ``merge``) and ``plot``."""
    experiments = EXPERIMENTS
    sweep_parser = subparsers.add_parser(
        "sweep",
        help="run a scaling experiment (resumable, parallel, shardable), or merge shards",
        epilog="NAME may also be your own experiment: stronglth sweep --module my_exp.py NAME (or an installed entry point"
        f" of the group {plugins.ENTRY_POINT_GROUP}).",
    )
    sweep_parser.add_argument("--module", dest="plugin_module", default=None, metavar="PATH_OR_MODULE", help=MODULE_HELP)
    sweep_sub = sweep_parser.add_subparsers(
        dest="experiment",
        required=True,
        action=_ExperimentCommands,
        metavar="{" + ",".join([n for n, e in experiments.items() if not e.hidden] + ["merge"]) + "}",
    )
    for exp in experiments.values():
        _add_experiment_parser(sweep_sub, exp)
    merge = sweep_sub.add_parser("merge", help="append the rows of shard files and other result directories to one results.jsonl")
    merge.add_argument("dirs", nargs="+", metavar="DIR", help="sweep output directories (or experiment directories)")
    merge.add_argument("--out", default=None, metavar="DEST", help="merge into DEST (default: the first DIR)")
    merge.add_argument("--no-report", action="store_true", help="do not regenerate CSV, PNG, summary")
    merge.add_argument("--module", dest="modules", action="append", default=[], metavar="PATH_OR_MODULE", help=MODULE_HELP)
    merge.set_defaults(run=_cmd_merge)

    plot = subparsers.add_parser("plot", help="regenerate the CSV, PNG and summary of sweep results")
    plot.add_argument("dir", metavar="DIR", help="a sweep output directory (or one experiment's directory)")
    plot.add_argument("--module", dest="modules", action="append", default=[], metavar="PATH_OR_MODULE", help=MODULE_HELP)
    plot.set_defaults(run=_cmd_plot)
