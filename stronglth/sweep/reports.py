"""Reports: ``cells.csv`` and each experiment's own CSV, figure and ``summary.md``, and the index
``README.md`` of a results directory, all regenerated from the stored rows."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stronglth._io import write_csv, write_text
from stronglth.errors import InvalidInputError
from stronglth.sweep.config import canonical_text
from stronglth.sweep.experiment import Experiment
from stronglth.sweep.plugins import module_argument, read_manifest
from stronglth.sweep.store import FORMAT, Row, load_rows

__all__ = ["report", "write_index", "experiment_names", "cells_table", "format_duration", "INDEX_MARK"]

INDEX_MARK = "<!-- written by stronglth sweep: regenerated on every run -->"


def cells_table(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """One flat record per row: ``hash``, the config fields, then the result fields (``result_``
    prefixed where a name clashes), ``seconds``."""
    out = []
    for row in rows:
        record: dict[str, Any] = {"hash": row.hash, **row.config}
        for k, v in row.result.items():
            record[k if k not in record else f"result_{k}"] = v
        record["seconds"] = row.seconds
        out.append(record)
    return out


def experiment_names(directory: str | os.PathLike) -> list[str]:
    """The names of the experiments whose rows are stored in ``directory``, sorted."""
    return sorted({row.experiment for row in load_rows(directory).values()})


def report(directory: str | os.PathLike, *, experiment: Experiment) -> list[Path]:
    """Regenerate the report of ``experiment`` from its rows in ``directory``: ``cells.csv`` (one
    line per cell) and the experiment's own CSV, PNG and ``summary.md``, each written atomically."""
    directory = Path(directory)
    if not isinstance(experiment, Experiment):
        raise InvalidInputError(f"report() takes an Experiment, got {type(experiment).__name__}")
    rows = list(load_rows(directory, experiment=experiment.name).values())
    if not rows:
        raise InvalidInputError(f"{directory}: no result rows of {experiment.name!r} to report")
    rows.sort(key=canonical_json_from_row)
    files = [write_csv(directory / "cells.csv", cells_table(rows))]
    if experiment.report is not None:
        files += list(experiment.report(directory, rows))
    return files


def canonical_json_from_row(row: Row) -> str:
    """The canonical text of a row's config (sorting rows this way makes reports deterministic)."""
    return canonical_text(row.type, row.config)


def format_duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def write_index(root: str | os.PathLike, experiments: Mapping[str, Experiment]) -> Path:
    """``root/README.md``: one section per experiment directory under ``root`` (its description,
    its ``summary.md`` and its figure), written atomically; ``root/sweep-index.md`` instead when
    ``root`` holds a README.md that this function did not write. Sections come in the order of
    ``experiments`` and take their descriptions from it; hidden experiments are left out, and a
    directory of an experiment not in ``experiments`` gets a section without a description.
    Plugin experiments (an :attr:`~stronglth.sweep.Experiment.origin`, or an ``experiment.json`` in
    their directory: :mod:`stronglth.sweep.plugins`) come last, under "Plugin experiments", each
    saying where it is defined and how to regenerate its report."""
    root = Path(root)
    builtin: list[str] = []
    plugins: list[str] = []
    order = list(experiments)
    found = [p for p in root.iterdir() if p.is_dir() and any(p.glob("*.jsonl"))]
    for directory in sorted(found, key=lambda p: (order.index(p.name) if p.name in order else len(order), p.name)):
        exp = experiments.get(directory.name)
        if exp is not None and exp.hidden:
            continue
        name = directory.name
        rows = load_rows(directory, experiment=name)
        manifest = read_manifest(directory)
        origin = exp.origin if exp is not None and exp.origin else (manifest["origin"] if manifest is not None else "")
        if exp is not None and exp.description:
            description = f"{exp.description} ({len(rows)} cells)."
        elif manifest is not None and manifest["description"]:
            description = f"{manifest['description']} ({len(rows)} cells)."
        else:
            description = f"{len(rows)} cells."
        lines = [f"{'###' if origin else '##'} {name}", "", description, ""]
        if origin:
            argument = module_argument(origin)
            again = f"stronglth plot {root}" + (f" --module {argument}" if argument else "")
            lines += [f"Defined in `{origin}`; regenerate with `{again}`.", ""]
        lines += [f"[summary]({name}/summary.md)"] if (directory / "summary.md").exists() or not origin else []
        lines += [f"![{name}]({name}/{png.name})" for png in sorted(directory.glob("*.png"))]
        (plugins if origin else builtin).append("\n".join(lines))
    if plugins:
        builtin.append(
            "## Plugin experiments\n\nExperiments defined outside the package (`stronglth sweep --module FILE NAME`, or an"
            " entry point of the group `stronglth.experiments`); each directory's `experiment.json` records where.\n\n"
            + "\n\n".join(plugins)
        )
    text = (
        f"{INDEX_MARK}\n# Sweep results\n\nWritten by `stronglth sweep` / `stronglth plot` from the rows in each"
        f" `<experiment>/results.jsonl` (format {FORMAT}); regenerate with `stronglth plot {root}`.\n\n"
        + "\n\n".join(builtin)
        + "\n"
    )
    path = root / "README.md"
    if path.exists() and not path.read_text(errors="replace").startswith(INDEX_MARK):
        path = root / "sweep-index.md"  # never overwrite a README.md someone else wrote
    return write_text(path, text)
