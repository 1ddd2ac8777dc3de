"""width-vs-dim: the smallest block size k of G against the target's input dimension d, at fixed eps.

For each d the target is a d-2-1 ReLU network (random_target, gaussian family, seed target_seed),
and k is the smallest block size (the same in every layer) at which the construction succeeds for
at least 1 - delta of the seeds 0 .. seeds-1 of G, bracketed to within rtol (k_fail < threshold <= k).
Malach's theorem k (docs/theory.md §4) depends on d through eta_1 = ln(1 + eps) / (2 sqrt(2 width d)) and
the number of events; the report fits k ~ C d^b and gives b with a 95% t interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stronglth.experiments import toolkit
from stronglth.sweep import Experiment, Row, SweepConfig

NAME = "width-vs-dim"


@dataclass(frozen=True)
class WidthVsDimCell(SweepConfig):
    method: str  # one of toolkit.BLOCK_METHODS
    d: int
    eps: float = 0.2
    width: int = 2
    seeds: int = 10
    delta: float = 0.1
    rtol: float = 0.1
    target_seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()  # coerces every field to its declared type
        toolkit.require(self.method in toolkit.BLOCK_METHODS, f"method must be one of {toolkit.BLOCK_METHODS}")
        toolkit.check_target_fields(self.d, (self.width, 1), "gaussian")


def grid(full: bool) -> list[WidthVsDimCell]:
    dims, seeds = ((1, 2, 4, 8, 16, 32, 64), 40) if full else ((1, 2, 4, 8), 10)
    return [WidthVsDimCell(method=m, d=d, seeds=seeds) for m in ("subsetsum", "malach-best") for d in dims]


def cell(config: WidthVsDimCell) -> dict:
    target = toolkit.make_target(config.d, (config.width, 1), "gaussian", config.target_seed)
    found = toolkit.smallest_block_size(
        target, config.method, eps=config.eps, delta=config.delta, seeds=config.seeds, rtol=config.rtol
    )
    return found.as_dict()  # k, k_fail, successes, theorem_k, ...: JSON values


def report(directory: Path, rows: list[Row]) -> list[Path]:
    records = sorted(({**row.config, **row.result} for row in rows), key=lambda r: (r["method"], r["eps"], r["d"]))
    fig, axes = toolkit.new_figure()
    ax, fits = axes[0, 0], []
    for method, eps in sorted({(r["method"], r["eps"]) for r in records}):
        found = [r for r in records if (r["method"], r["eps"]) == (method, eps) and r["k"] is not None]
        d, k = np.array([r["d"] for r in found]), np.array([r["k"] for r in found])
        fit = toolkit.power_fit(d, k)  # least squares on (log d, log k), t interval on the slope
        fits.append([method, eps, fit.text(), fit.n])
        (line,) = ax.plot(d, k, "o-", label=f"{method}, eps {eps:g}: measured k")
        if found and all(r["theorem_k"] is not None for r in found):
            ax.plot(d, [r["theorem_k"] for r in found], "--", color=line.get_color(), label=f"{method}, eps {eps:g}: theorem k")
    ax.set(xscale="log", yscale="log", xlabel="input dimension d", ylabel="block size k")
    ax.legend(fontsize=7)
    table = [
        [r["method"], r["eps"], r["d"], r["k"], r["k_fail"], f"{r['successes']}/{r['seeds']}", r["theorem_k"]] for r in records
    ]
    summary = (
        f"# {NAME}: block size needed vs input dimension\n\nSmallest k with success in >= 1 - delta of the seeds of G"
        " (the threshold lies in (k fails, k]); theorem k: Malach's a-priori block size (docs/theory.md §4).\n\n"
        + toolkit.markdown_table(["method", "eps", "d", "k", "k fails", "successes at k", "theorem k"], table)
        + "\n\nExponent b of k ~ C d^b (least squares on logs, 95% t interval):\n\n"
        + toolkit.markdown_table(["method", "eps", "b", "points"], fits)
        + f"\n\n![{NAME}]({NAME}.png)\n"
    )
    return [
        toolkit.write_csv(directory / f"{NAME}.csv", records),
        toolkit.save_figure(fig, directory / f"{NAME}.png"),
        toolkit.write_text(directory / "summary.md", summary),
    ]


EXPERIMENT = Experiment(NAME, WidthVsDimCell, grid, cell, report, "smallest block size that succeeds vs input dimension d")
