"""An experiment: a named grid of cells, the function computing one cell, and its report.

The public experiment API (docs/guide-experiment.md, "Your own scaling experiment"): a config type
(a frozen :class:`~stronglth.sweep.SweepConfig` dataclass), ``grid(full) -> [config, ...]``,
``cell(config) -> dict`` and ``report(directory, rows) -> [path, ...]``, bundled as an
:class:`Experiment`. The built-in ones are in :data:`stronglth.experiments.EXPERIMENTS`; one of your
own is a module defining ``EXPERIMENT`` (:mod:`stronglth.sweep.plugins` loads it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stronglth.sweep.store import Row

__all__ = ["Experiment"]


@dataclass(frozen=True)
class Experiment:
    """A named grid of cells.

    - ``name``: the experiment's name, also its results directory ``OUT/<name>/`` and its
      ``stronglth sweep NAME`` (letters, digits, ``.``, ``_``, ``-``; checked when a plugin is loaded);
    - ``config_type``: the class of its configs, a frozen :class:`~stronglth.sweep.SweepConfig`
      dataclass (a cell is named by the hash of its config: :func:`~stronglth.sweep.config_hash`);
    - ``grid(full)`` lists the configs (``full=False``: the default grid, minutes on 2 cores;
      ``stronglth sweep NAME --full`` passes ``True``);
    - ``cell(config)`` computes one result, a dict of JSON values (numbers, strings, None, lists,
      dicts), as a pure function of the config: seeds in the config, no global random state, no
      clock, so that a cell computed twice, on any shard, gives the same row. It must be a
      module-level function, so that worker processes can run it;
    - ``report(directory, rows)`` writes the experiment's CSV, PNG and ``summary.md`` from its rows
      (:class:`~stronglth.sweep.Row`: ``row.config`` and ``row.result`` are dicts) and returns their
      paths; ``None``: only ``cells.csv`` is written;
    - ``description``: one line for ``stronglth sweep --help`` and the results index;
    - ``hidden``: left out of the CLI's list and of the index (the engine's test experiment);
    - ``origin``: where a plugin experiment was loaded from (``"file:/abs/path.py"``,
      ``"module:package.module"`` or ``"entry-point:NAME"``, set by
      :func:`stronglth.sweep.plugins.load_experiment`); empty for the built-ins. A run records it in
      ``OUT/<name>/experiment.json``, so that ``stronglth plot`` and ``stronglth sweep merge`` find
      the experiment again.
    """

    name: str
    config_type: type
    grid: Callable[[bool], list[Any]]
    cell: Callable[[Any], dict[str, Any]]
    report: Callable[[Path, list[Row]], list[Path]] | None = None
    description: str = ""
    hidden: bool = False
    origin: str = ""
