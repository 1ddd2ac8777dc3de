"""``width-vs-eps``: how wide G must be, measured, against the theorem (docs/theory.md §4).

For each method and ``eps`` on a log grid, the smallest block size ``k`` (the same in every layer)
at which the construction succeeds for at least ``1 - delta`` of the seeds ``0 .. seeds-1`` of G,
for one small fixed target. The search doubles (or halves) from a starting guess until it brackets
the threshold, then bisects geometrically until the bracket ``(k_fail, k]`` is within ``rtol``.
Success at one ``k`` is counted with early stopping (it stops as soon as the verdict is certain);
the success count at the final ``k`` is exact. Whether one seed succeeds need not be monotone in
``k`` (block ``j`` reads other stream offsets when ``k`` changes), so ``k`` is the threshold of a
noisy, increasing success rate, found to within ``rtol``.

Expected (docs/theory.md §4): Malach's construction with the best-product rule needs
``k = Theta(log(N/delta) / eta)``, with the matching rule of the proofs ``Theta(log(N/delta) / eta^2)``,
and the subset-sum construction (Pensia et al. 2020) ``O(log(N / (delta eta)))``. Exponents are
fitted against ``1/eta`` with ``eta = min_i eta_i`` (the binding layer with one ``k`` everywhere):
``log k`` on ``log(1/eta)`` for Malach's rules, ``k`` on ``ln(1/eta)`` for subset-sum.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stronglth import bounds
from stronglth._io import write_csv, write_text
from stronglth.constructions.subsetsum.auto import auto_start
from stronglth.experiments.toolkit import (
    check_target_fields,
    fmt,
    linear_fit,
    make_target,
    markdown_table,
    new_figure,
    power_fit,
    require,
    save_figure,
    smallest_block_size,
    target_label,
    threshold_search,
)
from stronglth.sweep import Experiment, Row, SweepConfig

NAME = "width-vs-eps"
METHODS = ("malach-best", "malach-matching", "subsetsum")
EXPECTED = {"malach-best": "power 1 (k ~ 1/eta)", "malach-matching": "power 2 (k ~ 1/eta^2)", "subsetsum": "linear in log(1/eta)"}


@dataclass(frozen=True)
class WidthVsEpsCell(SweepConfig):
    """One search: ``method`` at ``eps``, success required in ``>= 1 - delta`` of ``seeds`` seeds."""

    method: str
    eps: float
    delta: float = 0.1
    seeds: int = 10
    d: int = 2
    widths: tuple[int, ...] = (2, 1)
    family: str = "gaussian"
    target_seed: int = 0
    rtol: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.method in METHODS, f"method must be one of {METHODS}, got {self.method!r}")
        require(self.eps > 0, f"eps must be > 0, got {self.eps}")
        require(0 < self.delta < 1, f"delta must lie in (0, 1), got {self.delta}")
        require(self.seeds >= 1, f"seeds must be >= 1, got {self.seeds}")
        require(self.rtol > 0, f"rtol must be > 0, got {self.rtol}")
        check_target_fields(self.d, self.widths, self.family)


def _halvings(count: int) -> tuple[float, ...]:
    return tuple(0.4 * 2.0**-j for j in range(count))


GRIDS = {  # (seeds, delta, rtol, eps per method)
    False: (20, 0.1, 0.1, {"malach-best": _halvings(8), "subsetsum": _halvings(13), "malach-matching": _halvings(5)}),
    True: (40, 0.05, 0.05, {"malach-best": _halvings(11), "subsetsum": _halvings(16), "malach-matching": _halvings(6)}),
}
"""Default: eps = 0.4 / 2^j down to 0.003 (best), 1e-4 (subset-sum), 0.025 (matching: theorem k 4e6
per block); 20 seeds, delta 0.1 (at most 2 failures), rtol 0.1. Full: further down, 40 seeds,
delta 0.05, rtol 0.05 (matching to 0.0125: theorem k 1.5e7)."""


def grid(full: bool = False) -> list[WidthVsEpsCell]:
    seeds, delta, rtol, eps_by_method = GRIDS[bool(full)]
    return [
        WidthVsEpsCell(method=method, eps=eps, delta=delta, seeds=seeds, rtol=rtol)
        for method in ("malach-best", "subsetsum", "malach-matching")
        for eps in eps_by_method[method]
    ]


search = threshold_search
"""The threshold search, now public as :func:`stronglth.experiments.toolkit.threshold_search`."""


def cell(config: WidthVsEpsCell) -> dict:
    """The smallest block size that works for at least ``1 - delta`` of the seeds
    (:func:`stronglth.experiments.toolkit.smallest_block_size`, with this experiment's start and cap)."""
    target = make_target(config.d, config.widths, config.family, config.target_seed)
    dims = target.dims
    etas = bounds.per_weight_tolerance(dims, config.eps)
    theorem = None
    if config.method == "subsetsum":
        starts = auto_start(dims, etas, config.delta)
    else:
        starts = None
        theorem = bounds.theorem_block_sizes(dims, config.eps, config.delta, rule=config.method.split("-", 1)[1])
    found = smallest_block_size(target, config.method, eps=config.eps, delta=config.delta, seeds=config.seeds, rtol=config.rtol)
    return {
        "k": found.k,
        "k_fail": found.k_fail,
        "successes": found.successes,
        "allowed_failures": found.allowed_failures,
        "theorem_k": found.theorem_k,
        "theorem_block_sizes": None if theorem is None else list(theorem),
        "auto_start": None if starts is None else list(starts),
        "eta": list(etas),
        "eta_min": min(etas),
        "n_events": bounds.event_count(dims),
        "constructions": found.constructions,
    }


# -- report ------------------------------------------------------------------------------------------------


def _setting(row: Row) -> tuple:
    c = row.config
    return (c["d"], tuple(c["widths"]), c["family"], c["target_seed"], c["delta"], c["seeds"], c["rtol"])


def fits(records: list[dict]) -> list[dict]:
    """Per method: the power fit of ``k`` against ``1/eta`` and the linear fit of ``k`` against
    ``ln(1/eta)``; the same for the theorem's ``k`` of each Malach rule."""
    out = []
    by_method = defaultdict(list)
    for r in records:
        if r["k"] is not None:
            by_method[r["method"]].append(r)
    for method in METHODS:
        rs = sorted(by_method.get(method, []), key=lambda r: r["inv_eta"])
        if not rs:
            continue
        x = np.array([r["inv_eta"] for r in rs])
        for source, key in (("measured", "k"), ("theorem", "theorem_k")):
            if source == "theorem" and rs[0][key] is None:
                continue
            y = np.array([r[key] for r in rs], dtype=float)
            for model, fit in (("power", power_fit(x, y)), ("log", linear_fit(np.log(x), y))):
                out.append({"method": method, "source": source, "model": model, **fit.as_dict(), "expected": EXPECTED[method]})
    return out


def write_report(directory: Path, rows: list[Row]) -> list[Path]:
    groups = defaultdict(list)
    for row in rows:
        groups[_setting(row)].append(row)
    files: list[Path] = []
    records_all, fits_all, sections = [], [], []
    for index, (setting, group) in enumerate(sorted(groups.items())):
        d, widths, family, target_seed, delta, seeds, rtol = setting
        records = []
        for row in group:
            c, r = row.config, row.result
            records.append(
                {
                    "setting": index,
                    "method": c["method"],
                    "eps": c["eps"],
                    "eta_min": r["eta_min"],
                    "inv_eta": 1.0 / r["eta_min"],
                    "k": r["k"],
                    "k_fail": r["k_fail"],
                    "theorem_k": r["theorem_k"],
                    "auto_start": None if r["auto_start"] is None else max(r["auto_start"]),
                    "theorem_over_k": None if (r["theorem_k"] is None or r["k"] is None) else r["theorem_k"] / r["k"],
                    "successes": r["successes"],
                    "seeds": c["seeds"],
                    "delta": c["delta"],
                    "constructions": r["constructions"],
                    "seconds": row.seconds,
                }
            )
        records.sort(key=lambda r: (METHODS.index(r["method"]), -r["eps"]))
        fitted = [{"setting": index, **f} for f in fits(records)]
        records_all += records
        fits_all += fitted
        suffix = "" if index == 0 else f"-{index + 1}"
        label = target_label(d, widths, family, target_seed)
        files.append(_figure(directory / f"{NAME}{suffix}.png", records, fitted, label, delta, seeds))
        sections.append(_summary(records, fitted, label, delta, seeds, rtol, f"{NAME}{suffix}.png"))
    files.insert(0, write_csv(directory / f"{NAME}.csv", records_all))
    files.insert(1, write_csv(directory / f"{NAME}-fits.csv", fits_all))
    files.append(write_text(directory / "summary.md", f"# {NAME}: block size needed vs eps\n\n" + "\n\n".join(sections) + "\n"))
    return files


COLORS = {"malach-best": "tab:blue", "malach-matching": "tab:red", "subsetsum": "tab:green"}


def _figure(path: Path, records: list[dict], fitted: list[dict], label: str, delta: float, seeds: int) -> Path:
    fig, axes = new_figure(2)
    ax, ax2 = axes[0]
    for method in METHODS:
        rs = [r for r in records if r["method"] == method and r["k"] is not None]
        if not rs:
            continue
        x = np.array([r["inv_eta"] for r in rs])
        k = np.array([r["k"] for r in rs], dtype=float)
        lo = np.array([max(r["k_fail"], 0.8) for r in rs], dtype=float)
        ax.errorbar(x, k, yerr=[k - lo, np.zeros_like(k)], fmt="o", color=COLORS[method], capsize=2, label=f"{method}: measured")
        if rs[0]["theorem_k"] is not None:
            ax.plot(x, [r["theorem_k"] for r in rs], "--", color=COLORS[method], label=f"{method}: theorem k")
        fit = next((f for f in fitted if f["method"] == method and f["source"] == "measured" and f["model"] == "power"), None)
        if fit is not None and not math.isnan(fit["slope"]) and method != "subsetsum":
            xs = np.geomspace(x.min(), x.max(), 50)
            ax.plot(
                xs,
                np.exp(fit["intercept"]) * xs ** fit["slope"],
                ":",
                color=COLORS[method],
                linewidth=1,
                label=f"fit: k ~ (1/eta)^{fit['slope']:.2f}",
            )
        if method == "subsetsum":
            lx = np.log(x)
            ax2.errorbar(
                lx, k, yerr=[k - lo, np.zeros_like(k)], fmt="o", color=COLORS[method], capsize=2, label="subsetsum: measured"
            )
            fit = next((f for f in fitted if f["method"] == method and f["source"] == "measured" and f["model"] == "log"), None)
            if fit is not None and not math.isnan(fit["slope"]):
                xs = np.linspace(lx.min(), lx.max(), 50)
                ax2.plot(
                    xs,
                    fit["intercept"] + fit["slope"] * xs,
                    ":",
                    color=COLORS[method],
                    label=f"fit: k = {fit['intercept']:.1f} + {fit['slope']:.2f} ln(1/eta)",
                )
            starts = [r["auto_start"] for r in rs]
            ax2.plot(lx, starts, "--", color="gray", label="auto rule 1.25 log2(N/(delta eta)) (empirical)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("1 / eta  (eta = smallest per-weight tolerance)")
    ax.set_ylabel(f"block size k (success in >= {1 - delta:.0%} of {seeds} seeds)")
    ax.set_title(f"width vs eps, {label}", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(True, which="major", alpha=0.3)
    ax2.set_xlabel("ln(1 / eta)")
    ax2.set_ylabel("block size k")
    ax2.set_title("subset-sum: k linear in log(1/eta)", fontsize=9)
    ax2.legend(fontsize=7)
    ax2.grid(True, alpha=0.3)
    return save_figure(fig, path)


def _summary(records, fitted, label, delta, seeds, rtol, figure) -> str:
    rows = [
        [
            r["method"],
            fmt(r["eps"]),
            fmt(r["inv_eta"]),
            r["k"],
            r["k_fail"],
            r["theorem_k"],
            fmt(r["theorem_over_k"]),
            f"{r['successes']}/{r['seeds']}" if r["successes"] is not None else "-",
        ]
        for r in records
    ]
    table = markdown_table(
        ["method", "eps", "1/eta", "k measured", "k fails", "theorem k", "theorem / measured", "successes at k"], rows
    )
    fit_rows = []
    for f in fitted:
        if (f["model"] == "power") if f["method"] != "subsetsum" else (f["source"] == "measured"):
            name = "exponent of 1/eta" if f["model"] == "power" else "slope in ln(1/eta)"
            ci = "-" if math.isnan(f["low"]) else f"[{f['low']:.3g}, {f['high']:.3g}]"
            fit_rows.append([f["method"], f["source"], name, fmt(f["slope"]), ci, f["n"], f["expected"]])
    fit_table = markdown_table(["method", "k from", "fit", "estimate", "95% CI", "points", "expected"], fit_rows)
    return (
        f"## {label}\n\nSmallest block size `k` (one `k` for every layer) at which the construction succeeds for at least "
        f"{1 - delta:.0%} of seeds 0..{seeds - 1} of G; `k fails` is the largest block size tried that did not "
        f"(the threshold lies in between, bisected to within {rtol:.0%}). `theorem k` is the largest of the theorem's "
        f"block sizes (docs/theory.md §4) for the same delta = {delta:g}.\n\n{table}\n\n"
        f"Fits (least squares, t-based 95% intervals) against `1/eta`, `eta` = the smallest per-weight tolerance:\n\n"
        f"{fit_table}\n\n![{NAME}]({figure})"
    )


EXPERIMENT = Experiment(
    NAME, WidthVsEpsCell, grid, cell, write_report, "smallest block size that succeeds vs eps, per method, against the theorem"
)
