"""``toy``: a cheap experiment for the sweep engine's own tests (hidden from the CLI's list).

A cell sleeps ``sleep`` seconds (so that a test can interrupt a sweep mid-run) and returns numbers
drawn from ``numpy.random.default_rng(seed)``: a pure function of its config.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stronglth._io import write_csv, write_text
from stronglth.experiments.toolkit import markdown_table
from stronglth.sweep import Experiment, Row, SweepConfig

NAME = "toy"


@dataclass(frozen=True)
class ToyCell(SweepConfig):
    seed: int
    sleep: float = 0.0
    size: int = 3


def grid(full: bool = False) -> list[ToyCell]:
    return [ToyCell(seed=s, sleep=0.005) for s in range(200 if full else 20)]


def cell(config: ToyCell) -> dict:
    if config.sleep > 0:
        time.sleep(config.sleep)
    values = np.random.default_rng(config.seed).random(config.size)
    return {"values": values.tolist(), "total": float(values.sum())}


def write_report(directory: Path, rows: list[Row]) -> list[Path]:
    records = [{"seed": r.config["seed"], "total": r.result["total"]} for r in sorted(rows, key=lambda r: r.config["seed"])]
    csv_path = write_csv(directory / f"{NAME}.csv", records, ["seed", "total"])
    md = (
        f"# toy\n\n{len(records)} cells.\n\n"
        + markdown_table(["seed", "total"], [[r["seed"], r["total"]] for r in records[:5]])
        + "\n"
    )
    return [csv_path, write_text(directory / "summary.md", md)]


EXPERIMENT = Experiment(NAME, ToyCell, grid, cell, write_report, "a cheap experiment for tests", hidden=True)
