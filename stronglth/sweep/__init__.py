"""Experiment sweeps: grids of cells, results named by a hash of their config, resumable and shardable.

An *experiment* (:class:`Experiment`) is a named grid of *cells*. A cell is a typed, frozen
dataclass config (:class:`SweepConfig`) whose result is a pure function of the config, named by a
hash of its canonical JSON (:func:`config_hash`), as in open_lth. The engine never imports an
experiment: it is handed :class:`Experiment` objects (the built-in ones are in
:data:`stronglth.experiments.EXPERIMENTS`).

- :mod:`~stronglth.sweep.config`: configs, canonical JSON, hashes;
- :mod:`~stronglth.sweep.experiment`: :class:`Experiment`, a named grid with its cell function and report;
- :mod:`~stronglth.sweep.store`: the append-only JSONL results store (format ``stronglth-sweep/1``);
- :mod:`~stronglth.sweep.runner`: :func:`run`, serial, in a process pool or as one shard;
- :mod:`~stronglth.sweep.merging`: :func:`merge`, folding shards into one results file;
- :mod:`~stronglth.sweep.reports`: :func:`report` and :func:`write_index`, regenerated from rows;
- :mod:`~stronglth.sweep.plugins`: experiments of your own, from a file, a module or an entry point
  (:func:`load_experiment`; docs/guide-experiment.md).

The experiment API (docs/guide-experiment.md): a config dataclass deriving from :class:`SweepConfig`,
``grid(full)``, ``cell(config) -> dict`` and ``report(directory, rows)``, bundled as an
:class:`Experiment`; the helpers such experiments use are in :mod:`stronglth.experiments.toolkit`.
"""

from stronglth.sweep.config import HASH_CHARS, SweepConfig, canonical_json, config_hash
from stronglth.sweep.experiment import Experiment
from stronglth.sweep.merging import MergeSummary, experiment_dirs, merge
from stronglth.sweep.plugins import ENTRY_POINT_GROUP, load_experiment
from stronglth.sweep.reports import cells_table, experiment_names, format_duration, report, write_index
from stronglth.sweep.runner import RunSummary, parse_shard, run, shard_cells
from stronglth.sweep.store import FORMAT, RESULTS, ResultWriter, Row, load_rows, read_rows, results_filename

__all__ = [
    "ENTRY_POINT_GROUP",
    "FORMAT",
    "HASH_CHARS",
    "RESULTS",
    "SweepConfig",
    "Experiment",
    "Row",
    "RunSummary",
    "MergeSummary",
    "canonical_json",
    "config_hash",
    "parse_shard",
    "shard_cells",
    "results_filename",
    "read_rows",
    "load_rows",
    "ResultWriter",
    "run",
    "merge",
    "report",
    "experiment_names",
    "experiment_dirs",
    "cells_table",
    "format_duration",
    "write_index",
    "load_experiment",
]
