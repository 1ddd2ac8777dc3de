"""``depth``: certified and adversarial sup error vs the target's depth and width at a fixed budget.

The budget is the block size ``k``: every target weight gets a block of ``k`` random candidate
units, whatever the target's shape. Targets are random admissible networks
``width -> width -> ... -> width -> 1`` of ``depth`` layers (``d = width``). The ticket is built
with ``on_failure="best_effort"`` (the best units found, whatever their error) by Malach's
best-product rule or by subset-sum; its error is measured three ways: the certified a-posteriori
bound ``E_l`` of docs/theory.md §3, gradient ascent on the sphere (:func:`stronglth.verification.adversarial_error`,
a lower bound on the sup) and, for ``d = 2``, the exact sup (:func:`stronglth.verification.exact_error`).

Expected: per-weight errors do not depend on the shape, but ``c_i <= ||D_i||_F`` grows like
``sqrt(n_i n_{i-1})`` and ``E_l`` compounds over layers, while the true error partly cancels:
the certified/adversarial ratio grows with width and depth.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stronglth._io import write_csv, write_text
from stronglth.constructions import construct
from stronglth.experiments.toolkit import (
    check_target_fields,
    fmt,
    markdown_table,
    median,
    new_figure,
    require,
    save_figure,
)
from stronglth.relu import ReLUNetwork
from stronglth.sweep import Experiment, Row, SweepConfig
from stronglth.target import random_target
from stronglth.verification import adversarial_error, exact_error

NAME = "depth"
METHODS = ("malach-best", "subsetsum")
NOMINAL_EPS = 1.0
"""The constructions take an ``eps``; with explicit block sizes and ``on_failure="best_effort"``
it only labels events as failed and does not change the ticket."""


@dataclass(frozen=True)
class DepthCell(SweepConfig):
    """One target (``depth`` layers of ``width``, target and G seed ``seed``), one method, block size ``block_size``."""

    method: str
    depth: int
    width: int
    block_size: int
    seed: int
    family: str = "gaussian"
    samples: int = 20_000
    starts: int = 16
    steps: int = 100

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.method in METHODS, f"method must be one of {METHODS}, got {self.method!r}")
        require(self.depth >= 1 and self.width >= 1 and self.block_size >= 1, "depth, width and block_size must be >= 1")
        require(
            self.seed >= 0 and self.samples >= 1 and self.starts >= 1 and self.steps >= 0, "bad seed or verification settings"
        )
        check_target_fields(self.width, self.dims[1:], self.family)

    @property
    def dims(self) -> tuple[int, ...]:
        return (self.width,) + (self.width,) * (self.depth - 1) + (1,)


def grid(full: bool = False) -> list[DepthCell]:
    """Default: depths 1-5, widths 2, 4, 8, k = 32, seeds 0-4; full: depths 1-6, widths 2-16, k = 16 and 64, seeds 0-9."""
    depths, widths, ks, seeds = (
        ((1, 2, 3, 4, 5, 6), (2, 4, 8, 16), (16, 64), range(10)) if full else ((1, 2, 3, 4, 5), (2, 4, 8), (32,), range(5))
    )
    return [
        DepthCell(method=m, depth=l, width=n, block_size=k, seed=s)
        for m in METHODS
        for k in ks
        for n in widths
        for l in depths
        for s in seeds
    ]


def cell(config: DepthCell) -> dict:
    target = random_target(config.width, list(config.dims[1:]), seed=config.seed, family=config.family)
    ks = [config.block_size] * config.depth
    if config.method == "subsetsum":
        ticket = construct(
            target,
            method="subsetsum",
            eps=NOMINAL_EPS,
            seed=config.seed,
            block_sizes=ks,
            on_failure="best_effort",
            objective="least_error",  # the subset the committed rows were computed with (the default is now "sparsest")
            progress=False,
        )
    else:
        ticket = construct(
            target,
            method="malach",
            eps=NOMINAL_EPS,
            seed=config.seed,
            block_sizes=ks,
            rule="best",
            on_failure="best_effort",
            progress=False,
        )
    adversarial, _ = adversarial_error(
        ticket, target, n=config.samples, starts=config.starts, steps=config.steps, seed=config.seed
    )
    exact = exact_error(ticket, target).upper if config.width <= 2 else None
    zero = ReLUNetwork([np.zeros_like(w) for w in target.weights])
    target_sup, _ = adversarial_error(target, zero, n=config.samples, starts=config.starts, steps=config.steps, seed=config.seed)
    return {
        "target_sup": target_sup,
        "certified": ticket.certified_error,
        "adversarial": adversarial,
        "exact": exact,
        "layer_constants": list(ticket.meta["layer_constants"]),
        "nnz": ticket.nnz,
        "parameters": ticket.network.parameter_count,
    }


# -- report ------------------------------------------------------------------------------------------------


def aggregate(rows: list[Row]) -> list[dict]:
    groups = defaultdict(list)
    for row in rows:
        c = row.config
        groups[(c["method"], c["block_size"], c["width"], c["depth"], c["family"])].append(row)
    out = []
    for (method, k, width, depth, family), group in sorted(groups.items()):
        cert = [r.result["certified"] for r in group]
        adv = [r.result["adversarial"] for r in group]
        out.append(
            {
                "method": method,
                "block_size": k,
                "width": width,
                "depth": depth,
                "family": family,
                "targets": len(group),
                "certified_median": median(cert),
                "certified_max": max(cert),
                "adversarial_median": median(adv),
                "adversarial_max": max(adv),
                "ratio_median": median([c / a for c, a in zip(cert, adv, strict=False) if a > 0]),
                "target_sup_median": median([r.result["target_sup"] for r in group]),
                "relative_adversarial_median": median(
                    [r.result["adversarial"] / r.result["target_sup"] for r in group if r.result["target_sup"] > 0]
                ),
                "exact_median": median([r.result["exact"] for r in group if r.result["exact"] is not None])
                if width <= 2
                else None,
            }
        )
    return out


def write_report(directory: Path, rows: list[Row]) -> list[Path]:
    records = aggregate(rows)
    files = [write_csv(directory / f"{NAME}.csv", records)]
    panels = sorted({(r["method"], r["block_size"]) for r in records})
    fig, axes = new_figure(2, len(panels), size=(11.0, 4.0 * len(panels)))
    sections = []
    for (method, k), (ax_depth, ax_width) in zip(panels, axes, strict=False):
        rs = [r for r in records if r["method"] == method and r["block_size"] == k]
        widths = sorted({r["width"] for r in rs})
        depths = sorted({r["depth"] for r in rs})
        colors = {n: f"C{i}" for i, n in enumerate(widths)}
        for n in widths:
            line = sorted((r for r in rs if r["width"] == n), key=lambda r: r["depth"])
            x = [r["depth"] for r in line]
            ax_depth.plot(x, [r["certified_median"] for r in line], "-o", color=colors[n], label=f"width {n}: certified")
            ax_depth.plot(x, [r["adversarial_median"] for r in line], "--s", color=colors[n], label=f"width {n}: adversarial")
        dcolors = {l: f"C{i}" for i, l in enumerate(depths)}
        for l in depths:
            line = sorted((r for r in rs if r["depth"] == l), key=lambda r: r["width"])
            x = [r["width"] for r in line]
            ax_width.plot(x, [r["certified_median"] for r in line], "-o", color=dcolors[l], label=f"depth {l}: certified")
            ax_width.plot(x, [r["adversarial_median"] for r in line], "--s", color=dcolors[l], label=f"depth {l}: adversarial")
        for ax, xlabel in ((ax_depth, "target depth l"), (ax_width, "target width n (= d)")):
            ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_ylabel("sup error over the unit ball (median over targets)")
            ax.set_title(f"{method}, block size k = {k}", fontsize=9)
            ax.grid(True, which="major", alpha=0.3)
            ax.legend(fontsize=6, ncol=2)
        ax_width.set_xscale("log", base=2)
        table = markdown_table(
            [
                "depth",
                "width",
                "targets",
                "certified (median)",
                "adversarial (median)",
                "median of certified / adversarial",
                "exact (median, d=2)",
                "sup |F| (median)",
                "median of adversarial / sup |F|",
            ],
            [
                [
                    r["depth"],
                    r["width"],
                    r["targets"],
                    fmt(r["certified_median"]),
                    fmt(r["adversarial_median"]),
                    fmt(r["ratio_median"]),
                    fmt(r["exact_median"]),
                    fmt(r["target_sup_median"]),
                    fmt(r["relative_adversarial_median"]),
                ]
                for r in sorted(rs, key=lambda r: (r["depth"], r["width"]))
            ],
        )
        sections.append(f"## {method}, block size k = {k}\n\n{table}")
    files.append(save_figure(fig, directory / f"{NAME}.png"))
    text = (
        f"# {NAME}: error vs target depth and width at a fixed block size\n\nEvery target weight gets a block of `k` random "
        "candidates; targets are random admissible `n -> n -> ... -> 1` networks (`d = n`), one per seed, G seeded alike. "
        "Certified: the a-posteriori bound of docs/theory.md §3; adversarial: projected gradient ascent on the sphere "
        "(a lower bound on the sup); exact: the sup itself (d = 2). Random admissible targets contract (spectral norms "
        "<= 1, and a ReLU drops about half of the energy), so `sup |F|` falls with depth and the absolute adversarial error "
        "falls with it; `adversarial / sup |F|` is the relative error. The certified bound does not see the contraction.\n\n"
        + "\n\n".join(sections)
        + f"\n\n![{NAME}]({NAME}.png)\n"
    )
    files.append(write_text(directory / "summary.md", text))
    return files


EXPERIMENT = Experiment(
    NAME, DepthCell, grid, cell, write_report, "certified and adversarial error vs target depth and width at a fixed block size"
)
