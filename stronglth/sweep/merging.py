"""Merging shards: fold the rows of several results files into one ``results.jsonl`` per experiment."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from stronglth._io import write_text
from stronglth.errors import InvalidInputError
from stronglth.sweep.experiment import Experiment
from stronglth.sweep.plugins import MANIFEST, read_manifest
from stronglth.sweep.reports import report, write_index
from stronglth.sweep.store import RESULTS, ResultWriter, Row, read_rows, result_files

__all__ = ["merge", "MergeSummary", "experiment_dirs"]


def experiment_dirs(root: str | os.PathLike) -> list[Path]:
    """Directories holding results files: ``root`` itself if it has ``*.jsonl`` files, else its
    sub-directories that do."""
    root = Path(root)
    if not root.is_dir():
        raise InvalidInputError(f"{root}: no such directory")
    if any(root.glob("*.jsonl")):
        return [root]
    return sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob("*.jsonl")))


@dataclass(frozen=True)
class MergeSummary:
    destination: Path
    appended: dict[str, int]  # experiment -> rows appended to its results.jsonl
    total: dict[str, int]  # experiment -> rows after the merge
    conflicts: tuple[str, ...]  # hashes found with different results (the first one was kept)
    report_files: tuple[Path, ...] = ()


def merge(
    sources: Sequence[str | os.PathLike],
    out: str | os.PathLike | None = None,
    *,
    write_report: bool = True,
    experiments: Mapping[str, Experiment] | None = None,
) -> MergeSummary:
    """Append to ``out/<experiment>/results.jsonl`` every row of ``sources`` it lacks.

    A source is a sweep output directory (``--out``; its ``<experiment>/`` sub-directories are
    read) or one experiment directory; every ``*.jsonl`` in it counts (shard files included).
    ``out`` defaults to the first source, so ``merge([DIR])`` folds DIR's shard files into its
    ``results.jsonl``. Rows already present (same hash) are not appended again; a row whose result
    differs from the one kept (a non-deterministic cell, or another package version) is reported in
    ``conflicts``. Idempotent; append-only. A source directory's ``experiment.json`` (where a plugin
    experiment comes from: :mod:`stronglth.sweep.plugins`) is copied where the destination has none.
    Unless ``write_report=False``, the reports of the experiments named in ``experiments`` (the CLI
    passes :data:`stronglth.experiments.EXPERIMENTS` and the plugin experiments it found) and the
    index are regenerated.
    """
    known = dict(experiments or {})
    if isinstance(sources, (str, os.PathLike)) or not sources:
        raise InvalidInputError("merge needs at least one directory")
    destination = Path(out if out is not None else sources[0])
    incoming: dict[str, list[Row]] = {}
    manifests: dict[str, Path] = {}  # experiment -> a source directory recording its origin (a plugin)
    for source in sources:
        for directory in experiment_dirs(source):
            for path in result_files(directory):
                for row in read_rows(path):
                    incoming.setdefault(row.experiment, []).append(row)
            manifest = read_manifest(directory)
            if manifest is not None:
                manifests.setdefault(manifest["name"], directory)
    if not incoming:
        raise InvalidInputError(f"no result rows found in {', '.join(str(s) for s in sources)}")
    appended: dict[str, int] = {}
    total: dict[str, int] = {}
    conflicts: list[str] = []
    files: list[Path] = []
    for name in sorted(incoming):
        directory = destination / name
        with ResultWriter(directory / RESULTS) as writer:
            have = {row.hash: row for row in writer.rows}  # read (and validated) under its lock
            count = 0
            for row in incoming[name]:
                kept = have.get(row.hash)
                if kept is None:
                    writer.append(row)
                    have[row.hash] = row
                    count += 1
                elif kept.result != row.result and row.hash not in conflicts:
                    conflicts.append(row.hash)
        appended[name], total[name] = count, len(have)
        if name in manifests and read_manifest(directory) is None:  # where a plugin experiment comes from
            write_text(directory / MANIFEST, (manifests[name] / MANIFEST).read_text())
        if write_report:
            exp = known.get(name)
            if exp is not None and exp.report is not None:
                files += report(directory, experiment=exp)
    if write_report:
        files.append(write_index(destination, known))
    return MergeSummary(destination, appended, total, tuple(conflicts), tuple(files))
