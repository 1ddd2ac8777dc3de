"""``construction-vs-edge-popup``: Malach's construction and edge-popup inside the same G.

One admissible target and one G (``RandomNetwork.for_target(target, [k] * l, seed=seed)``) per block
size ``k``, searched by Malach's construction (Malach et al., ICML 2020) and by edge-popup
(Ramanujan et al., CVPR 2020) trained on the squared error over the unit ball; every ticket is
measured by :mod:`stronglth.verification` (sampled and adversarial sup error). Variants of a cell:

- ``malach``: the construction's ticket (:func:`stronglth.baselines.approximation.construction_errors`);
- ``edge-popup``: edge-popup at ``requested_density``, weights scaled to Kaiming's variance and the
  output calibrated to the target's scale (``weight_scale="calibrated"``);
- ``edge-popup-matched``: the same at the construction's own per-matrix densities;
- ``edge-popup-unscaled``: edge-popup at ``requested_density`` on G's unscaled values.

A cell is one (``k``, variant, density, ``lr``); the report keeps, per (``k``, variant, density), the
learning rate with the lowest final training MSE (the smallest ``lr`` on a tie).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stronglth._io import write_csv, write_text
from stronglth.experiments.toolkit import check_target_fields, new_figure, require, save_figure
from stronglth.sweep import Experiment, Row, SweepConfig

NAME = "construction-vs-edge-popup"
VARIANTS = {
    "malach": "malach",
    "edge-popup": "edge-popup",
    "edge-popup-matched": "edge-popup @ construction's densities",
    "edge-popup-unscaled": "edge-popup (G's values)",
}
"""Variant of a cell -> its label in the report (the labels of the former experiments/edge_popup.py)."""
OPTIMIZERS = ("sgd", "adam")
SETTING = ("d", "widths", "family", "target_seed", "seed", "steps", "batch_size", "optimizer", "samples", "eps")
"""Config fields shared by the cells compared in one table (everything but ``k``, variant, density, ``lr``)."""
COLUMNS = (
    "target family zero_error method block_size g_parameters nnz density train_mse sampled_error adversarial_error exact_error"
    " certified_error seconds variant requested_density lr output_factor steps samples lrs"
).split()


@dataclass(frozen=True)
class ConstructionVsEdgePopupCell(SweepConfig):
    """One ticket in G (block size ``block_size`` everywhere, seed ``seed``): ``variant`` (see :data:`VARIANTS`) at
    ``requested_density`` (``edge-popup``, ``edge-popup-unscaled``), trained with learning rate ``lr`` (edge-popup only)."""

    block_size: int
    variant: str
    requested_density: float | None = None
    lr: float | None = None
    d: int = 4
    widths: tuple[int, ...] = (8, 8, 1)
    family: str = "gaussian"
    target_seed: int = 0
    seed: int = 1
    steps: int = 800
    batch_size: int = 256
    optimizer: str = "adam"
    samples: int = 20_000
    eps: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.variant in VARIANTS, f"variant must be one of {sorted(VARIANTS)}, got {self.variant!r}")
        require(self.block_size >= 1, f"block_size must be >= 1, got {self.block_size}")
        needs_density = self.variant in ("edge-popup", "edge-popup-unscaled")
        require(
            (self.requested_density is not None) == needs_density,
            f"variant {self.variant!r} {'needs' if needs_density else 'takes no'} requested_density",
        )
        require(self.requested_density is None or 0 < self.requested_density <= 1, "requested_density must be in (0, 1]")
        require((self.lr is None) == (self.variant == "malach"), "lr is for the edge-popup variants alone (and needed there)")
        require(self.lr is None or self.lr > 0, f"lr must be > 0, got {self.lr}")
        require(self.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        require(
            self.seed >= 0 and self.steps >= 1 and self.batch_size >= 1 and self.samples >= 1, "bad seed or training settings"
        )
        require(self.eps > 0, f"eps must be > 0, got {self.eps}")
        check_target_fields(self.d, self.widths, self.family)


def grid(full: bool = False) -> list[ConstructionVsEdgePopupCell]:
    """The 4-8-8-1 gaussian target (seed 0), G seed 1. Default: k = 16, 64, 256; edge-popup at densities
    0.05, 0.2, 0.5 and unscaled at 0.2; 800 Adam steps at lr 1e-3; 20,000 verification samples (18 cells).
    Full: k = 8 ... 512; densities 0.01 ... 0.8, unscaled at 0.05, 0.2, 0.5; 3,000 steps at lr 3e-4, 1e-3,
    3e-3; 100,000 samples (238 cells)."""
    ks: tuple[int, ...] = (16, 64, 256)
    densities: tuple[float, ...] = (0.05, 0.2, 0.5)
    unscaled: tuple[float, ...] = (0.2,)
    lrs: tuple[float, ...] = (1e-3,)
    steps, samples = 800, 20_000
    if full:
        ks, densities, unscaled = (8, 16, 32, 64, 128, 256, 512), (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8), (0.05, 0.2, 0.5)
        lrs, steps, samples = (3e-4, 1e-3, 3e-3), 3000, 100_000

    def make(k: int, variant: str, density: float | None = None, lr: float | None = None) -> ConstructionVsEdgePopupCell:
        return ConstructionVsEdgePopupCell(
            block_size=k, variant=variant, requested_density=density, lr=lr, steps=steps, samples=samples
        )

    cells = []
    for k in ks:
        cells.append(make(k, "malach"))
        cells += [make(k, "edge-popup", p, lr) for p in densities for lr in lrs]
        cells += [make(k, "edge-popup-matched", None, lr) for lr in lrs]
        cells += [make(k, "edge-popup-unscaled", p, lr) for p in unscaled for lr in lrs]
    return cells


def cell(config: ConstructionVsEdgePopupCell) -> dict:
    from stronglth.baselines.approximation import approximate_target, construction_errors
    from stronglth.relu import ReLUNetwork
    from stronglth.target import random_target
    from stronglth.verification import sampled_error

    target = random_target(config.d, list(config.widths), seed=config.target_seed, family=config.family).check()
    zero = ReLUNetwork([np.zeros((1, target.d)), np.zeros((target.dims[-1], 1))])
    base = {
        "target": "x".join(map(str, target.dims)),
        "zero_error": sampled_error(zero, target, n=config.samples, seed=config.seed)[0],
    }
    ks = [config.block_size] * target.depth
    if config.variant in ("malach", "edge-popup-matched"):
        _, row = construction_errors(target, block_sizes=ks, seed=config.seed, eps=config.eps, samples=config.samples)
        if config.variant == "malach":
            return base | _result(row) | {"output_factor": 1.0}
        density = row["layer_density"]
    else:
        density = config.requested_density
    assert config.lr is not None  # an edge-popup variant (checked by the config)
    result = approximate_target(
        target,
        block_sizes=ks,
        density=density,
        seed=config.seed,
        steps=config.steps,
        batch_size=config.batch_size,
        optimizer=config.optimizer,
        lr=config.lr,
        weight_scale=1.0 if config.variant == "edge-popup-unscaled" else "calibrated",
        samples=config.samples,
        progress=False,
    )
    return base | _result(result.row()) | {"layer_kept": list(result.layer_kept)}


def _result(row: dict[str, Any]) -> dict[str, Any]:
    """A task's row without its wall-clock ``seconds`` (the sweep row records them) and the ``block_size`` of the config."""
    return {k: v for k, v in row.items() if k not in ("seconds", "block_size")}


# -- report ------------------------------------------------------------------------------------------------


def records(rows: list[Row]) -> list[dict]:
    """One record per (setting, ``k``, variant, density) in the former script's CSV layout: the Malach ticket,
    then edge-popup at each density, at the construction's densities, and unscaled; for edge-popup the
    ``lr`` with the lowest final training MSE among the cells' (``lrs``)."""
    groups = defaultdict(list)
    for row in rows:
        c = row.config
        key = tuple(tuple(c[f]) if isinstance(c[f], list) else c[f] for f in SETTING)
        density = c["requested_density"]
        groups[(key, c["block_size"], list(VARIANTS).index(c["variant"]), -1.0 if density is None else density)].append(row)
    out = []
    for _, group in sorted(groups.items(), key=lambda kv: kv[0]):
        lrs = sorted(r.config["lr"] for r in group if r.config["lr"] is not None)
        best = min(group, key=lambda r: (_loss(r.result.get("train_mse")), r.config["lr"] or 0.0))
        c, res = best.config, best.result
        out.append(
            {k: res.get(k) for k in COLUMNS}
            | {
                "family": c["family"],
                "block_size": c["block_size"],
                "seconds": best.seconds,
                "variant": VARIANTS[c["variant"]],
                "requested_density": c["requested_density"],
                "lr": c["lr"],
                "output_factor": res.get("output_factor", 1.0),
                "steps": c["steps"],
                "samples": c["samples"],
                "lrs": lrs or None,
                "setting": {f: c[f] for f in SETTING},
            }
        )
    return out


def _loss(value: float | None) -> float:
    return float("inf") if value is None else float(value)


def _settings(recs: list[dict]) -> list[list[dict]]:
    """The records split by setting, the setting with the most records first."""
    by: dict[str, list[dict]] = defaultdict(list)
    for r in recs:
        by[repr(sorted(r["setting"].items()))].append(r)
    return sorted(by.values(), key=lambda rs: -len(rs))


def _complete(rs: list[dict]) -> list[int]:
    """The block sizes with a Malach record and at least one edge-popup record (the ones the table compares)."""
    ks = sorted({r["block_size"] for r in rs})
    return [k for k in ks if {"malach", "edge-popup"} <= {r["variant"] for r in rs if r["block_size"] == k}]


def _plot(rs: list[dict], path: Path) -> Path:
    import matplotlib

    fig, axes = new_figure(2, size=(12, 4.8))
    left, right = axes[0]
    ks = sorted({r["block_size"] for r in rs})
    cmap = matplotlib.colormaps["viridis"]
    colors = {k: cmap(i / max(1, len(ks) - 1)) for i, k in enumerate(ks)}
    for k in ks:
        ep = sorted((r for r in rs if r["block_size"] == k and r["variant"] == "edge-popup"), key=lambda r: r["density"])
        left.plot(
            [r["density"] for r in ep], [r["adversarial_error"] for r in ep], "o-", color=colors[k], label=f"edge-popup, k={k}"
        )
        for r in (r for r in rs if r["block_size"] == k):
            if r["variant"] == "malach":
                left.plot(
                    r["density"], r["adversarial_error"], "*", ms=14, color=colors[k], markeredgecolor="k", label=f"Malach, k={k}"
                )
            if r["variant"].startswith("edge-popup @"):
                left.plot(r["density"], r["adversarial_error"], "s", ms=8, mfc="none", color=colors[k])
            if r["variant"] == "edge-popup (G's values)":
                left.plot(r["density"], r["adversarial_error"], "x", ms=8, color=colors[k])
    for ax in (left, right):
        ax.axhline(rs[0]["zero_error"], color="gray", ls="--", lw=1, label="zero network (sup |F|)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    left.set_xlabel("density (fraction of G's weights kept)")
    left.set_ylabel("sup error over the unit ball (adversarial)")
    left.set_title(
        "same target, same G: error vs density\n(squares: edge-popup at the construction's densities; x: unscaled G)", fontsize=9
    )
    left.legend(fontsize=7, ncol=2)
    complete = _complete(rs)
    by_k = {k: [r for r in rs if r["block_size"] == k] for k in complete}
    params = [by_k[k][0]["g_parameters"] for k in complete]
    malach = [next(r["adversarial_error"] for r in by_k[k] if r["variant"] == "malach") for k in complete]
    best_ep = [min(r["adversarial_error"] for r in by_k[k] if r["variant"].startswith("edge-popup")) for k in complete]
    matched = [
        next((r["adversarial_error"] for r in by_k[k] if r["variant"].startswith("edge-popup @")), np.nan) for k in complete
    ]
    right.plot(params, malach, "*-", ms=12, label="Malach construction")
    right.plot(params, best_ep, "o-", label="edge-popup, best density")
    right.plot(params, matched, "s--", mfc="none", label="edge-popup at the construction's densities")
    right.set_xlabel("size of G (weights)")
    right.set_ylabel("sup error over the unit ball (adversarial)")
    right.set_title("error vs size of G", fontsize=9)
    right.legend(fontsize=8)
    fig.suptitle(f"target {rs[0]['target']} ({rs[0]['family']}): Malach construction vs edge-popup inside the same G")
    return save_figure(fig, path)


def _summary(rs: list[dict]) -> str:
    s = rs[0]["setting"]
    lrs = sorted({lr for r in rs for lr in (r["lrs"] or [])})
    lines = [
        f"Target {rs[0]['target']} ({s['family']}, seed {s['target_seed']}), G = RandomNetwork.for_target(target, [k]*l, "
        f"seed={s['seed']}). Errors: sup over the unit ball, adversarial (gradient ascent from the best of "
        f"{s['samples']:,} sphere points). The zero network's error (sup |F|) is {rs[0]['zero_error']:.4g}. Edge-popup: "
        f"{s['steps']} steps of {s['optimizer']} (lr from {lrs} by final training MSE), batch {s['batch_size']}, "
        "weights scaled to Kaiming's variance with the output calibrated to the target's scale (so its ticket is a subnetwork "
        "of G times a constant); 'G's values' is edge-popup on G unscaled.\n",
        "| k | G weights | Malach density | Malach error | Malach certified | edge-popup at Malach's densities"
        " | best edge-popup (density) | G's values, best | winner |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    ratios = []
    for k in _complete(rs):
        rk = [r for r in rs if r["block_size"] == k]
        m = next(r for r in rk if r["variant"] == "malach")
        matched = next((r for r in rk if r["variant"].startswith("edge-popup @")), None)
        best = min((r for r in rk if r["variant"] == "edge-popup"), key=lambda r: r["adversarial_error"])
        unscaled = [r for r in rk if r["variant"] == "edge-popup (G's values)"]
        best_unscaled = min((r["adversarial_error"] for r in unscaled), default=float("nan"))
        ratios.append(best["density"] / m["density"])
        winner = (
            "Malach"
            if m["adversarial_error"] <= best["adversarial_error"]
            else f"edge-popup (at {best['density']:.3g}, {best['density'] / m['density']:.0f}x Malach's density)"
        )
        matched_error = matched["adversarial_error"] if matched else float("nan")
        lines.append(
            f"| {k} | {m['g_parameters']:,} | {m['density']:.3g} | {m['adversarial_error']:.3g} | {m['certified_error']:.3g} | "
            f"{matched_error:.3g} | {best['adversarial_error']:.3g} ({best['density']:.3g}) | {best_unscaled:.3g} | {winner} |"
        )
    zero = rs[0]["zero_error"]
    dead = [r["block_size"] for r in rs if r["variant"].startswith("edge-popup @") and r["adversarial_error"] >= 0.99 * zero]
    lines.append("")
    if ratios:
        lines.append(
            f"Reading: edge-popup's best error comes at {min(ratios):.0f}x to {max(ratios):.0f}x the construction's density. "
            + (
                "At the construction's own per-matrix densities edge-popup ends at the zero network (error = sup |F|) "
                f"for k = {dead}: with so few weights kept at random the initial network is (nearly) dead, and the "
                "straight-through gradient of a dead network is zero. "
                if dead
                else ""
            )
            + "On G's unscaled U[-1, 1] values the first steps kill every path for the same reason.\n"
        )
    return "\n".join(lines)


def write_report(directory: Path, rows: list[Row]) -> list[Path]:
    recs = records(rows)
    files = [write_csv(directory / f"{NAME}.csv", recs, COLUMNS)]
    settings = _settings(recs)
    files.append(_plot(settings[0], directory / f"{NAME}.png"))
    sections = [_summary(rs) for rs in settings]
    note = "" if len(settings) == 1 else f"\n{len(settings)} settings; the figure shows the first.\n"
    text = (
        f"# {NAME}: Malach's construction vs edge-popup (same target, same G)\n\n"
        + "\n\n".join(sections)
        + f"{note}\n{len(rows)} cells, one per (k, variant, density, lr): configs and results in `cells.csv` and `results.jsonl`."
        f" Files: `{NAME}.csv`, `{NAME}.png`.\n\n![{NAME}]({NAME}.png)\n"
    )
    files.append(write_text(directory / "summary.md", text))
    return files


EXPERIMENT = Experiment(
    NAME,
    ConstructionVsEdgePopupCell,
    grid,
    cell,
    write_report,
    "Malach's construction vs edge-popup inside the same G: sup error vs density and vs the size of G",
)
