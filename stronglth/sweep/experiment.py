"""An experiment: a named grid of cells, the function computing one cell, and its report."""

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

    ``grid(full)`` lists the configs (``full=False``: the default grid, minutes on 2 cores);
    ``cell(config)`` computes one result, a dict of JSON values, as a pure function of the config
    (a module-level function, so that worker processes can run it); ``report(directory, rows)``
    writes the experiment's CSV, PNG and ``summary.md`` and returns their paths.
    """

    name: str
    config_type: type
    grid: Callable[[bool], list[Any]]
    cell: Callable[[Any], dict[str, Any]]
    report: Callable[[Path, list[Row]], list[Path]] | None = None
    description: str = ""
    hidden: bool = False
