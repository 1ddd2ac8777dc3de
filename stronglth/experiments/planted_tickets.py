"""``planted-tickets``: can the finders find a ticket known to exist? (Fischer & Burkholz, "Plant 'n' Seek",
ICLR 2022; docs/theory.md §8.)

Three plants, each a bias-free ReLU network with a known subnetwork, and the regression of its target on
uniform points of the unit ball (2,000 train, 500 validation, 1,000 test):

- ``malach`` / ``subsetsum``: the construction's ticket (:func:`stronglth.construct`) inside its own G
  (a 2-4-1 gaussian target, block size 32: G is 2-64-4-128-1); its loss is the construction's, not zero;
- ``planted``: a 4-6-6-1 gaussian target, its last layer scaled to unit output RMS (:func:`unit_scale`),
  written into random neurons of a 4-100-100-1 Kaiming-normal mother network
  (:func:`stronglth.pruning.planting.plant_target`), as Fischer & Burkholz plant; loss 0.

Training (weak finders' tickets, IMP's rounds, and the dense reference ``dense_loss``, the whole network
trained without a mask): Adam 3e-3, cosine, batch 64, ``iterations`` steps; edge-popup and supermask train
their scores with Adam at 0.01 and 0.1. The construction plants keep G's U[-1, 1] weights, so their
targets (outputs ~0.1) are small against G's initial outputs and the dense reference shows what the budget
buys there.

Every finder of :data:`stronglth.pruning.FINDERS` runs at ``factor`` times the planted density: per layer
(the planted ticket's own layer densities times ``factor``, capped at 1) for all but SynFlow and SNIP,
which rank globally as in their papers (the planted overall density times ``factor``). Reported: the test
loss (mean squared error) of the found mask on the network's own weights (``mask_loss``: a strong ticket)
and after training the kept weights (``trained_loss``, weak finders), both normalised by the zero
predictor's ``E[y^2]``; precision and recall of the kept weights against the planted mask; layer collapse.
The report reads two criteria from the losses: a finder *matches* the planted ticket at a density when its
best loss is at most twice the planted ticket's, and *fits* the target when it is at most 0.05 (normalised),
on every seed; it fails at the densities below the sparsest one where it does. (The rows' ``success`` is
"matches or fits".) *No path*: the kept weights connect no input to the output (the network is zero).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stronglth._io import write_csv, write_text
from stronglth.experiments.toolkit import markdown_table, new_figure, require, save_figure
from stronglth.sweep import Experiment, Row, SweepConfig

NAME = "planted-tickets"
PLANTS = ("malach", "subsetsum", "planted")
FINDER_NAMES = ("imp", "imp-one-shot", "early-bird", "synflow", "snip", "magnitude", "random", "supermask", "edge-popup")
GLOBAL = ("synflow", "snip")
SUCCESS = 0.05
COLUMNS = (
    "plant finder factor seed density planted_density planted_loss dense_loss mask_loss trained_loss best_loss success precision"
    " recall"
    " collapsed_layers paths"
).split()


@dataclass(frozen=True)
class PlantedTicketsCell(SweepConfig):
    """One finder on one plant at ``factor`` times the planted density; ``seed`` seeds G or the mother
    network, the target, the data and the finder."""

    plant: str
    finder: str
    factor: float
    seed: int
    iterations: int = 2000
    lr: float = 3e-3
    block_size: int = 32
    mother_width: int = 100

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.plant in PLANTS, f"plant must be one of {PLANTS}, got {self.plant!r}")
        require(self.finder in FINDER_NAMES, f"finder must be one of {FINDER_NAMES}, got {self.finder!r}")
        require(self.factor >= 1, f"factor (times the planted density) must be >= 1, got {self.factor}")
        require(self.seed >= 0 and self.iterations >= 1 and self.lr > 0, "bad seed or training settings")
        require(self.block_size >= 2 and self.mother_width >= 6, "block_size >= 2 and mother_width >= 6")


FACTORS = (1.0, 2.0, 4.0, 8.0, 16.0)


def grid(full: bool = False) -> list[PlantedTicketsCell]:
    """Three plants, nine finders, factors 1, 2, 4, 8, 16, seeds 0-1, 2,000 steps (270 cells). Full: seeds 0-4,
    4,000 steps, factors up to 64."""
    seeds, iterations, factors = ((0, 1, 2, 3, 4), 4000, (*FACTORS, 32.0, 64.0)) if full else ((0, 1), 2000, FACTORS)
    return [
        PlantedTicketsCell(plant=p, finder=f, factor=x, seed=s, iterations=iterations)
        for s in seeds
        for p in PLANTS
        for f in FINDER_NAMES
        for x in factors
    ]


@functools.lru_cache(maxsize=8)
def _plant(plant: str, seed: int, block_size: int, mother_width: int) -> tuple[Any, list, Any, float]:
    """(model, planted masks, data, planted ticket's test MSE), cached per process."""
    import stronglth
    from stronglth.pruning.planting import plant_target, regression_data, ticket_model

    if plant == "planted":
        target = unit_scale(stronglth.random_target(4, [6, 6, 1], seed=seed), seed=seed)
        model, masks, _ = plant_target(target, [mother_width, mother_width], seed=seed)
    else:
        target = stronglth.random_target(2, [4, 1], seed=seed)
        ticket = stronglth.construct(
            target, method=plant, eps=0.05, seed=seed, block_sizes=[block_size] * 2, on_failure="best_effort"
        )
        model, masks = ticket_model(ticket)
    data = regression_data(target, train=2000, validation=500, test=1000, seed=seed)
    return model, masks, data, _loss(model, masks, data)


def unit_scale(target: Any, *, seed: int) -> Any:
    """``target`` with its last layer times ``c = 1 / rms(target)`` on 4,096 seeded ball points: E[y^2] is 1,
    the scale of a Kaiming-initialised mother network's output (an admissible target's outputs are ~0.02)."""
    from stronglth.baselines.approximation import ball_points
    from stronglth.baselines.edge_popup import layer_generator
    from stronglth.relu import ReLUNetwork

    x = ball_points(4096, target.d, generator=layer_generator(seed, 82)).numpy()
    c = 1.0 / float(np.sqrt(np.mean(np.square(target.forward(x)))))
    return ReLUNetwork([*target.weights[:-1], c * target.weights[-1]])


@functools.lru_cache(maxsize=8)
def dense_loss(plant: str, seed: int, block_size: int, mother_width: int, iterations: int, lr: float) -> float:
    """Normalised test MSE of the whole network (no mask) trained with the cells' settings: what the budget buys."""
    from stronglth.pruning.training import TrainSettings, copy_model, train

    model, _, data, _ = _plant(plant, seed, block_size, mother_width)
    net = copy_model(model)
    settings = TrainSettings(iterations=iterations, batch_size=64, lr=lr, schedule="cosine", eval_every=100)
    log = train(net, data, settings, seed=seed, device="cpu")
    return log.summary()["early_stop_test_loss"] / float(data.y_test.pow(2).sum(dim=1).mean())


def _loss(model: Any, masks: list, data: Any) -> float:
    from stronglth.pruning.masks import apply_masks
    from stronglth.pruning.training import copy_model, evaluate

    return evaluate(apply_masks(copy_model(model), masks), data.x_test, data.y_test)[0]


def _paths(masks: list) -> float:
    """Input-output paths through the kept weights (0: the network is the zero function)."""
    import torch

    h = torch.ones(masks[0].shape[1], dtype=torch.float64)
    for m in masks:
        h = m.to(torch.float64) @ h
    return float(h.sum())


def cell(config: PlantedTicketsCell) -> dict:
    import torch

    from stronglth.pruning import prune
    from stronglth.pruning.masks import masks_density
    from stronglth.pruning.planting import mask_overlap
    from stronglth.pruning.training import TrainSettings, train

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model, planted, data, planted_loss = _plant(config.plant, config.seed, config.block_size, config.mother_width)
        scale = float(data.y_test.pow(2).sum(dim=1).mean())
        settings = TrainSettings(iterations=config.iterations, batch_size=64, lr=config.lr, schedule="cosine", eval_every=100)
        if config.finder in GLOBAL:
            density: Any = min(1.0, config.factor * masks_density(planted))
        else:
            density = [min(1.0, config.factor * float(m.sum()) / m.numel()) for m in planted]
        options: dict[str, Any] = {"device": "cpu"}
        if config.finder.startswith("imp") or config.finder in ("supermask", "edge-popup"):
            lr = {"supermask": 0.1, "edge-popup": 0.01}.get(config.finder, config.lr)
            options["settings"] = TrainSettings(
                iterations=config.iterations, batch_size=64, lr=lr, schedule="cosine", eval_every=100
            )
        if config.finder == "early-bird":
            options |= {"settings": settings, "epochs": max(1, config.iterations * 64 // 2000)}
        if config.finder == "imp":
            options["rate"] = 0.5  # 1 / 2 of the remaining per round: the planted densities are 0.6-6%
        if config.finder.startswith("imp"):
            options["train_final"] = False
        scope = "global" if config.finder in GLOBAL else "layer"
        result = prune(config.finder, model, data, density, seed=config.seed, scope=scope, **options)
        mask_loss = _loss(model, result.masks, data)
        trained_loss = None
        if not result.info.get("strong"):
            net = result.model
            log = train(net, data, settings, seed=config.seed, masks=result.masks, device="cpu")
            trained_loss = log.summary()["early_stop_test_loss"]
        best = min(x for x in (mask_loss, trained_loss) if x is not None)
        overlap = mask_overlap(result.masks, planted)
        return {
            "density": result.achieved_density,
            "layer_densities": result.layer_densities,
            "planted_density": masks_density(planted),
            "planted_loss": planted_loss / scale,
            "dense_loss": dense_loss(
                config.plant, config.seed, config.block_size, config.mother_width, config.iterations, config.lr
            ),
            "mask_loss": mask_loss / scale,
            "trained_loss": None if trained_loss is None else trained_loss / scale,
            "best_loss": best / scale,
            "success": bool(best / scale <= max(2 * planted_loss / scale, SUCCESS)),
            "precision": overlap["precision"],
            "recall": overlap["recall"],
            "layer_recall": overlap["layer_recall"],
            "collapsed_layers": result.collapsed,
            "paths": _paths(result.masks),
        }
    finally:
        torch.set_num_threads(threads)


# -- report ------------------------------------------------------------------------------------------------


def records(rows: list[Row]) -> list[dict]:
    out = [{**{k: r.config[k] for k in ("plant", "finder", "factor", "seed")}, **r.result} for r in rows]
    return sorted(out, key=lambda r: (PLANTS.index(r["plant"]), FINDER_NAMES.index(r["finder"]), r["factor"], r["seed"]))


def _mean(recs: list[dict], key: str) -> float:
    values = [r[key] for r in recs if r.get(key) is not None]
    return float(np.mean(values)) if values else float("nan")


def summary_rows(recs: list[dict]) -> list[dict]:
    """Per (plant, finder): the sparsest factor at which every seed matches the planted ticket's loss (at most
    twice it) and at which every seed fits the target (loss at most :data:`SUCCESS`), and the factors at which
    some seed's mask keeps no weight in a layer or no input-output path."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in recs:
        groups[(r["plant"], r["finder"])].append(r)
    out = []
    for (plant, finder), members in groups.items():
        factors = sorted({r["factor"] for r in members})

        def sparsest(ok: Any, factors: list = factors, members: list = members) -> float | None:
            good = [f for f in factors if all(ok(r) for r in members if r["factor"] == f)]
            return min(good) if good else None

        at1 = [r for r in members if r["factor"] == factors[0]]
        by_factor = {f: _mean([r for r in members if r["factor"] == f], "best_loss") for f in factors}
        best_factor = min(by_factor, key=lambda f: (by_factor[f], f))
        out.append(
            {
                "plant": plant,
                "finder": finder,
                "matches": sparsest(lambda r: r["best_loss"] <= 2 * r["planted_loss"] + 1e-12),
                "fits": sparsest(lambda r: r["best_loss"] <= SUCCESS),
                "loss_at_planted": _mean(at1, "best_loss"),
                "best_loss": by_factor[best_factor],
                "best_factor": best_factor,
                "recall_at_planted": _mean(at1, "recall"),
                "precision_at_planted": _mean(at1, "precision"),
                "collapse": sorted({r["factor"] for r in members if r["collapsed_layers"]}),
                "no_path": sorted({r["factor"] for r in members if r["paths"] == 0}),
            }
        )
    return sorted(out, key=lambda s: (PLANTS.index(s["plant"]), FINDER_NAMES.index(s["finder"])))


def _plot(recs: list[dict], path: Path) -> Path:
    plants = [p for p in PLANTS if any(r["plant"] == p for r in recs)]
    fig, axes = new_figure(len(plants), 2, size=(5.2 * len(plants), 8.4))
    for col, plant in enumerate(plants):
        mine = [r for r in recs if r["plant"] == plant]
        for i, finder in enumerate(FINDER_NAMES):
            rs = [r for r in mine if r["finder"] == finder]
            if not rs:
                continue
            xs = sorted({r["factor"] for r in rs})
            style = "o-" if finder in ("supermask", "edge-popup") else "s--"
            loss = [max(1e-6, _mean([r for r in rs if r["factor"] == x], "best_loss")) for x in xs]
            axes[0][col].plot(xs, loss, style, color=f"C{i}", label=finder, ms=4)
            axes[1][col].plot(xs, [_mean([r for r in rs if r["factor"] == x], "recall") for x in xs], style, color=f"C{i}", ms=4)
        planted = _mean(mine, "planted_loss")
        label = "planted ticket" + (f" ({planted:.1g}, drawn at 1e-6)" if planted < 1e-6 else "")
        axes[0][col].axhline(max(planted, 1e-6), color="k", lw=1.2, label=label)
        axes[0][col].axhline(SUCCESS, color="gray", ls=":", lw=1)
        axes[0][col].set(
            xscale="log", yscale="log", title=f"{plant}: planted density {100 * _mean(mine, 'planted_density'):.2g}%"
        )
        axes[0][col].set(xlabel="density / planted density", ylabel="test MSE / E[y^2] (best of mask, trained)")
        axes[1][col].set(
            xscale="log", xlabel="density / planted density", ylabel="recall of the planted weights", ylim=(-0.03, 1.03)
        )
        for ax in axes[:, col]:
            ax.grid(True, which="both", alpha=0.3)
        axes[0][col].legend(fontsize=7, ncol=2)
    fig.suptitle("planted tickets (Fischer & Burkholz 2022): loss and recall of the finders around the planted density")
    return save_figure(fig, path)


def _summary(recs: list[dict]) -> str:
    lines = []
    for plant in [p for p in PLANTS if any(r["plant"] == p for r in recs)]:
        mine = [r for r in recs if r["plant"] == plant]
        lines.append(
            f"## {plant}\n\nplanted density {100 * _mean(mine, 'planted_density'):.3g}%, planted ticket's normalised test MSE "
            f"{_mean(mine, 'planted_loss'):.3g}; the whole network trained without a mask (the budget's reference): "
            f"{_mean(mine, 'dense_loss'):.3g}; seeds {sorted({r['seed'] for r in mine})}.\n"
        )
        table = []
        never = lambda f: "never" if f is None else f"{f:g}x"  # noqa: E731
        listed = lambda fs: ", ".join(f"{f:g}x" for f in fs) or "-"  # noqa: E731
        for s in summary_rows(mine):
            table.append(
                [
                    s["finder"],
                    s["loss_at_planted"],
                    f"{s['best_loss']:.3g} ({s['best_factor']:g}x)",
                    s["precision_at_planted"],
                    s["recall_at_planted"],
                    never(s["matches"]),
                    never(s["fits"]),
                    listed(s["collapse"]),
                    listed(s["no_path"]),
                ]
            )
        header = [
            "finder",
            "loss at 1x",
            "best loss (at)",
            "precision at 1x",
            "recall at 1x",
            "matches planted from",
            "fits from",
        ]
        lines.append(markdown_table([*header, "empty layer at", "no path at"], table) + "\n")
    return "\n".join(lines)


def write_report(directory: Path, rows: list[Row]) -> list[Path]:
    recs = records(rows)
    files = [write_csv(directory / f"{NAME}.csv", recs, COLUMNS), _plot(recs, directory / f"{NAME}.png")]
    text = (
        f"# {NAME}: finders against planted tickets\n\n"
        f"Loss: test mean squared error over E[y^2] (the zero predictor scores 1), the better of the found mask on the "
        f"network's own weights and, for the weak finders, after training the kept weights (mean over seeds). Densities are "
        f"factors (1x, 2x, ...) of the planted ticket's. *Matches planted from*: the sparsest factor at which every seed's loss "
        f"is at most twice the planted ticket's; *fits from*: at most {SUCCESS}; below it the finder fails. Precision is at "
        f"most (planted weights) / (kept weights), about 1 / factor. *Empty layer*: a layer keeps no weight; *no path*: no "
        f"input is connected to the output (the network is zero).\n\n"
        + _summary(recs)
        + f"\n{len(rows)} cells, one per (plant, finder, factor, seed): configs and results in `cells.csv` and `results.jsonl`."
        f" Files: `{NAME}.csv`, `{NAME}.png`.\n\n![{NAME}]({NAME}.png)\n"
    )
    files.append(write_text(directory / "summary.md", text))
    return files


EXPERIMENT = Experiment(
    NAME,
    PlantedTicketsCell,
    grid,
    cell,
    write_report,
    "planted tickets: every finder at and above the planted density, loss against the planted ticket's, precision/recall",
)
