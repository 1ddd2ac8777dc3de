"""``edge-popup-classification``: edge-popup MLPs (Ramanujan et al., CVPR 2020) on digits and MNIST-1D.

MLPs with two bias-free hidden layers of ``width`` and signed-constant weights, trained by edge-popup
(:func:`stronglth.baselines.classification.train_classifier` on the scores) or densely (the weights), as in the
former ``experiments/edge_popup.py``. A cell is one (dataset, seed, width, mode, density); a cell with
``fixed_kept`` instead of a density keeps that many weights in all, the same density in every layer
(a network with no more weights than that is skipped). The report reads three sweeps from the rows,
per data set: ``density`` (edge-popup at each density, and the dense network, at the width with the
most densities), ``width`` (edge-popup at the density found at the most widths, and dense, per width)
and ``fixed_kept`` (width varied, number of kept weights fixed).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stronglth._io import write_csv, write_text
from stronglth.experiments.toolkit import new_figure, require, save_figure
from stronglth.sweep import Experiment, Row, SweepConfig

NAME = "edge-popup-classification"
DATASETS = ("digits", "mnist1d")
MODES = ("edge-popup", "dense")
SETTING = ("epochs", "batch_size", "weight_decay", "weight_init")
COLUMNS = (
    "dataset seed sweep width mode requested_density density kept weights test_accuracy train_accuracy final_loss seconds"
    " epochs lr"
).split()


@dataclass(frozen=True)
class EdgePopupClassificationCell(SweepConfig):
    """One MLP on ``dataset`` (two hidden layers of ``width``, init and data order seeded by ``seed``), trained by
    ``mode`` at ``requested_density`` (1.0 when dense) or keeping ``fixed_kept`` weights (edge-popup)."""

    dataset: str
    seed: int
    width: int
    mode: str
    requested_density: float | None = None
    fixed_kept: int | None = None
    lr: float = 0.1
    epochs: int = 15
    batch_size: int = 64
    weight_decay: float = 5e-4
    weight_init: str = "signed_constant"

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.dataset in DATASETS, f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        require(self.mode in MODES, f"mode must be one of {MODES}, got {self.mode!r}")
        require(self.seed >= 0 and self.width >= 1, f"need seed >= 0 and width >= 1, got {self.seed}, {self.width}")
        require(
            (self.requested_density is None) != (self.fixed_kept is None), "give exactly one of requested_density and fixed_kept"
        )
        if self.mode == "dense":
            require(self.requested_density == 1.0, "a dense network has requested_density 1.0 (and no fixed_kept)")
        require(self.requested_density is None or 0 < self.requested_density <= 1, "requested_density must be in (0, 1]")
        require(self.fixed_kept is None or self.fixed_kept >= 1, f"fixed_kept must be >= 1, got {self.fixed_kept}")
        require(self.lr > 0 and self.epochs >= 1 and self.batch_size >= 1 and self.weight_decay >= 0, "bad training settings")


def grid(full: bool = False) -> list[EdgePopupClassificationCell]:
    """Digits and MNIST-1D, width 256 at densities 0.01 ... 0.9, widths 32 ... 512 at density 0.5 (edge-popup at
    lr 0.1, dense at lr 0.05), 5,000 kept weights at widths 64 ... 1024; 15 epochs, seed 0 (42 cells).
    Full: seeds 0-2, 40 epochs, 13 densities 0.005 ... 0.9, widths 16 ... 1024, fixed widths 64 ... 2048 (192 cells)."""
    seeds: tuple[int, ...] = (0,)
    densities: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 0.5, 0.7, 0.9)
    widths: tuple[int, ...] = (32, 64, 128, 256, 512)
    fixed_widths: tuple[int, ...] = (64, 128, 256, 512, 1024)
    epochs = 15
    if full:
        seeds, epochs = (0, 1, 2), 40
        densities = (0.005, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
        widths, fixed_widths = (16, 32, 64, 128, 256, 512, 1024), (64, 128, 256, 512, 1024, 2048)
    width, width_density, fixed_kept, lr, dense_lr = 256, 0.5, 5_000, 0.1, 0.05
    out: dict[EdgePopupClassificationCell, None] = {}  # ordered, without the cells two sweeps share
    for name in DATASETS:
        for s in seeds:
            ep = functools.partial(EdgePopupClassificationCell, dataset=name, seed=s, mode="edge-popup", lr=lr, epochs=epochs)
            dense = functools.partial(
                EdgePopupClassificationCell, dataset=name, seed=s, mode="dense", requested_density=1.0, lr=dense_lr, epochs=epochs
            )
            cells = [ep(width=width, requested_density=p) for p in densities] + [dense(width=width)]
            for w in widths:
                cells += [ep(width=w, requested_density=width_density), dense(width=w)]
            cells += [ep(width=w, fixed_kept=fixed_kept) for w in fixed_widths]
            out.update(dict.fromkeys(cells))
    return list(out)


@functools.lru_cache(maxsize=len(DATASETS))
def _load(name: str) -> Any:
    from stronglth.baselines.data import load_dataset

    return load_dataset(name)


def cell(config: EdgePopupClassificationCell) -> dict:
    from stronglth.baselines.classification import train_classifier
    from stronglth.baselines.models import mlp, prunable_weights

    data = _load(config.dataset)
    result: dict[str, Any] = {}
    density = config.requested_density
    if density is None:  # a fixed number of kept weights, spread evenly: the same density in every layer
        assert config.fixed_kept is not None  # exactly one of the two (checked by the config)
        total = prunable_weights(mlp(data.in_features, [config.width] * 2, data.num_classes, mode="dense", seed=0))
        if config.fixed_kept >= total:
            return {"skipped": True, "weights": total}  # fewer weights than the budget: not a subnetwork question
        density = config.fixed_kept / total
        result["budget_density"] = density
    model = mlp(
        data.in_features,
        [config.width] * 2,
        data.num_classes,
        mode=config.mode,
        density=density,
        weight_init=config.weight_init,
        seed=config.seed,
    )
    trained = train_classifier(
        model,
        data,
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        weight_decay=config.weight_decay,
        seed=config.seed,
        progress=False,
    )
    return result | {
        "density": trained.density,
        "kept": trained.kept,
        "weights": trained.total,
        "test_accuracy": trained.test_accuracy,
        "train_accuracy": trained.train_accuracy,
        "final_loss": trained.final_loss,
    }


# -- report ------------------------------------------------------------------------------------------------


def _record(row: Row, sweep: str) -> dict:
    c, res = row.config, row.result
    density = c["requested_density"] if c["requested_density"] is not None else res.get("budget_density")
    return {k: c.get(k, res.get(k)) for k in COLUMNS} | {
        "sweep": sweep,
        "requested_density": density,
        "seconds": row.seconds,
        "setting": tuple(c[f] for f in SETTING),
    }


def _most(values: dict[Any, set]) -> Any:
    """The key with the most distinct values (the largest key on a tie), or None."""
    return max(values, key=lambda k: (len(values[k]), k)) if values else None


def records(rows: list[Row]) -> list[dict]:
    """One record per (sweep, cell) in the former script's CSV layout (a cell in two sweeps appears twice), per
    setting and data set: the density sweep, the width sweep, then ``fixed_kept``; cells in none: ``other``."""
    rows = [r for r in rows if not r.result.get("skipped")]
    groups = defaultdict(list)
    for row in rows:
        groups[(tuple(row.config[f] for f in SETTING), row.config["dataset"])].append(row)
    out = []
    for _, group in sorted(groups.items(), key=lambda kv: kv[0]):
        ep = [r for r in group if r.config["mode"] == "edge-popup" and r.config["fixed_kept"] is None]
        at_width, at_density = defaultdict(set), defaultdict(set)
        for r in ep:
            at_width[r.config["width"]].add(r.config["requested_density"])
            at_density[r.config["requested_density"]].add(r.config["width"])
        width, density = _most(at_width), _most(at_density)
        used: set[str] = set()
        for seed in sorted({r.config["seed"] for r in group}):
            mine = [r for r in group if r.config["seed"] == seed]
            dense = {r.config["width"]: r for r in mine if r.config["mode"] == "dense"}
            sweeps = {
                "density": sorted(
                    (r for r in ep if r.config["seed"] == seed and r.config["width"] == width),
                    key=lambda r: r.config["requested_density"],
                )
                + ([dense[width]] if width in dense else []),
                "width": [],
                "fixed_kept": sorted((r for r in mine if r.config["fixed_kept"] is not None), key=lambda r: r.config["width"]),
            }
            along = sorted(
                (r for r in ep if r.config["seed"] == seed and r.config["requested_density"] == density),
                key=lambda r: r.config["width"],
            )
            sweeps["width"] = [x for r in along for x in (r, dense.get(r.config["width"])) if x is not None]
            for sweep, members in sweeps.items():
                out += [_record(r, sweep) for r in members]
                used |= {r.hash for r in members}
            out += [_record(r, "other") for r in mine if r.hash not in used]
    return out


def _mean_by(recs: list[dict], key: str) -> tuple[list[float], list[float], list[float]]:
    xs = sorted({r[key] for r in recs})
    means = [float(np.mean([r["test_accuracy"] for r in recs if r[key] == x])) for x in xs]
    stds = [float(np.std([r["test_accuracy"] for r in recs if r[key] == x])) for x in xs]
    return xs, means, stds


def _select(recs: list[dict], name: str, sweep: str, mode: str | None = None) -> list[dict]:
    return [r for r in recs if r["dataset"] == name and r["sweep"] == sweep and mode in (None, r["mode"])]


def _one(values: set) -> Any:
    return next(iter(values)) if len(values) == 1 else sorted(values)


def _plot(recs: list[dict], path: Path) -> Path:
    fig, axes = new_figure(3, size=(15, 4.5))
    axes = axes[0]
    for i, name in enumerate(sorted({r["dataset"] for r in recs})):
        color = f"C{i}"
        x, m, s = _mean_by(_select(recs, name, "density", "edge-popup"), "requested_density")
        axes[0].errorbar(x, m, yerr=s, fmt="o-", color=color, label=f"{name}: edge-popup")
        dense = _select(recs, name, "density", "dense")
        if dense:
            axes[0].axhline(
                float(np.mean([r["test_accuracy"] for r in dense])), color=color, ls="--", label=f"{name}: dense, trained"
            )
        x, m, s = _mean_by(_select(recs, name, "width", "edge-popup"), "width")
        axes[1].errorbar(x, m, yerr=s, fmt="o-", color=color, label=f"{name}: edge-popup")
        x, m, s = _mean_by(_select(recs, name, "width", "dense"), "width")
        axes[1].errorbar(x, m, yerr=s, fmt="s--", color=color, mfc="none", label=f"{name}: dense")
        fixed = _select(recs, name, "fixed_kept")
        if fixed:
            x, m, s = _mean_by(fixed, "width")
            axes[2].errorbar(x, m, yerr=s, fmt="o-", color=color, label=f"{name}: about {fixed[0]['kept']:,} kept weights")
    width = _one({r["width"] for r in recs if r["sweep"] == "density"})
    density = _one({r["requested_density"] for r in recs if r["sweep"] == "width" and r["mode"] == "edge-popup"})
    axes[0].set(
        xscale="log",
        xlabel="density (fraction kept per layer)",
        ylabel="test accuracy",
        title=f"accuracy vs density (MLP, 2 hidden layers of {width})",
    )
    axes[1].set(xlabel="hidden width", ylabel="test accuracy", title=f"accuracy vs width (edge-popup at density {density})")
    axes[2].set(xlabel="hidden width", ylabel="test accuracy", title="width varied, number of kept weights fixed")
    ticks = sorted({r["width"] for r in recs if r["sweep"] in ("width", "fixed_kept")})
    for ax in axes[1:]:
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
    for ax in axes:
        ax.axhline(0.1, color="gray", lw=0.8, ls=":")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("edge-popup (Ramanujan et al. 2020): subnetworks of random MLPs (signed-constant weights)")
    return save_figure(fig, path)


def _summary(recs: list[dict], rows: list[Row]) -> str:
    lr = _one({r["lr"] for r in recs if r["mode"] == "edge-popup"})
    dense_lr = _one({r["lr"] for r in recs if r["mode"] == "dense"})
    epochs, batch_size, weight_decay, weight_init = recs[0]["setting"]
    seeds = sorted({r["seed"] for r in recs})
    lines = [
        f"MLPs with two hidden layers, bias-free, {weight_init.replace('_', '-')} weights; edge-popup: SGD lr {lr}, "
        f"momentum 0.9, weight decay {weight_decay}, cosine, batch {batch_size}, {epochs} epochs; the dense network: "
        f"the same with lr {dense_lr}. Seeds {seeds}; mean test accuracy. Chance: 10%.\n",
    ]
    for name in sorted({r["dataset"] for r in recs}):
        x, m, _ = _mean_by(_select(recs, name, "density", "edge-popup"), "requested_density")
        dense = _select(recs, name, "density", "dense")
        lines.append(f"## {name}\n")
        if m and dense:
            best = int(np.argmax(m))
            accuracy = 100 * np.mean([r["test_accuracy"] for r in dense])
            lines.append(
                f"- dense, trained (width {_one({r['width'] for r in dense})}): {accuracy:.1f}%; "
                f"edge-popup best {100 * m[best]:.1f}% at density {x[best]:g}."
            )
        lines.append("- accuracy vs density: " + ", ".join(f"{d:g}: {100 * a:.1f}%" for d, a in zip(x, m, strict=False)))
        xw, mw, _ = _mean_by(_select(recs, name, "width", "edge-popup"), "width")
        xd, md, _ = _mean_by(_select(recs, name, "width", "dense"), "width")
        dense_at = dict(zip(xd, md, strict=False))
        lines.append(
            "- accuracy vs width (edge-popup / dense): "
            + ", ".join(f"{w}: {100 * a:.1f}/{100 * dense_at.get(w, np.nan):.1f}%" for w, a in zip(xw, mw, strict=False))
        )
        fixed = _select(recs, name, "fixed_kept")
        budget = _one(
            {r.config["fixed_kept"] for r in rows if r.config["fixed_kept"] is not None and r.config["dataset"] == name}
        )
        xf, mf, _ = _mean_by(fixed, "width")
        if fixed:
            lines.append(
                f"- about {budget:,} kept weights (the same density in every layer), width varied: "
                + ", ".join(f"{w}: {100 * a:.1f}%" for w, a in zip(xf, mf, strict=False))
                + "\n"
            )
    return "\n".join(lines)


def write_report(directory: Path, rows: list[Row]) -> list[Path]:
    recs = records(rows)
    files = [write_csv(directory / f"{NAME}.csv", recs, COLUMNS)]
    by: dict[tuple, list[dict]] = defaultdict(list)
    for r in recs:
        by[r["setting"]].append(r)
    settings = sorted(by.values(), key=lambda rs: -len(rs))
    files.append(_plot(settings[0], directory / f"{NAME}.png"))
    note = "" if len(settings) == 1 else f"\n{len(settings)} settings; the figure shows the first.\n"
    skipped = sum(bool(r.result.get("skipped")) for r in rows)
    text = (
        f"# {NAME}: edge-popup MLPs on digits and MNIST-1D\n\n"
        + "\n\n".join(_summary(rs, rows) for rs in settings)
        + f"{note}\n{len(rows)} cells"
        + (f" ({skipped} skipped: fewer weights than the budget)" if skipped else "")
        + f", one per (data set, seed, width, mode, density): configs and results in `cells.csv` and `results.jsonl`."
        f" Files: `{NAME}.csv`, `{NAME}.png`.\n\n![{NAME}]({NAME}.png)\n"
    )
    files.append(write_text(directory / "summary.md", text))
    return files


EXPERIMENT = Experiment(
    NAME,
    EdgePopupClassificationCell,
    grid,
    cell,
    write_report,
    "edge-popup MLPs on digits and MNIST-1D: accuracy vs density, vs width, and vs width at a fixed number of kept weights",
)
