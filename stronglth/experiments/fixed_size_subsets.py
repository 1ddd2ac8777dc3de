"""``fixed-size-subsets``: the density of a subset-sum ticket against G's size, with subsets of a fixed
size (Natale et al., NeurIPS 2024; docs/theory.md §5.1).

Natale, Ferré, Giambartolomei, Giroire, Mallmann-Trenn ("On the sparsity of the strong lottery ticket
hypothesis") build every target weight from subsets of exactly ``s`` of ``n`` random values, and
prove that ``n >= C log2^2(s / eps) / H2(s / n)`` values suffice (``H2`` the binary entropy; ``C`` not
explicit): the size ``s`` sets the ticket's density. A cell here is one ``(variant, block size k,
seed of G)`` for one fixed admissible target at one fixed ``eps`` (the per-weight tolerances
``eta_i = bounds.per_weight_tolerance(dims, eps)``): the subset-sum ticket with block sizes ``[k] *
l`` and ``subset_size=s`` (variants ``s1`` .. ``s8``), or with ``objective="sparsest"`` /
``"least_error"`` and no size constraint; ``on_failure="best_effort"``. Recorded: whether every
event succeeded, the ticket's non-zeros and density (non-zeros / G's parameters), G's parameters,
the certified error.

Report: per variant, the smallest block size at which at least 90% of the seeds succeed, G's size
and the ticket's density there; the figure shows density against G's parameter count (points where
>= 90% succeed) and the smallest successful block against ``s`` beside the shape of Natale et al.'s
bound, ``n*(s) = C log2^2(s / eta) / H2(s / n*)`` with ``n = k / 2`` candidates per side and the one
constant ``C`` fitted to the measurements (least squares in log; the paper gives no value).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stronglth import bounds
from stronglth._io import write_csv, write_text
from stronglth.constructions import construct
from stronglth.experiments.toolkit import fmt, make_target, markdown_table, new_figure, require, save_figure, target_label
from stronglth.sweep import Experiment, Row, SweepConfig

NAME = "fixed-size-subsets"
SIZES = (1, 2, 3, 4, 6, 8)
VARIANTS = tuple(f"s{s}" for s in SIZES) + ("sparsest", "least_error")
SUCCESS_RATE = 0.9
COLUMNS = "variant k seeds successes success_rate g_parameters mean_nnz mean_density mean_certified_error".split()


@dataclass(frozen=True)
class FixedSizeCell(SweepConfig):
    """The ticket of ``variant`` (``s<size>``, ``sparsest`` or ``least_error``) with block size ``k`` in every
    layer, in the G of ``seed``, for the ``d``-``widths`` admissible target of ``target_seed`` at ``eps``."""

    variant: str
    k: int
    seed: int
    eps: float = 0.3
    d: int = 6
    widths: tuple[int, ...] = (6, 2)
    family: str = "gaussian"
    target_seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.variant in VARIANTS, f"variant must be one of {VARIANTS}, got {self.variant!r}")
        require(1 <= self.k <= 512 and self.seed >= 0 and 0 < self.eps < 1, "need 1 <= k <= 512, seed >= 0, 0 < eps < 1")


def grid(full: bool = False) -> list[FixedSizeCell]:
    """The 6-6-2 Gaussian target at eps = 0.3 (eta = 0.0155, 0.0379): the eight variants at block sizes 8 ... 96,
    seeds 0-9 (960 cells, about 2 minutes). Full: seeds 0-29."""
    seeds = range(30 if full else 10)
    ks = (8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96)
    return [FixedSizeCell(variant=v, k=k, seed=s) for v in VARIANTS for k in ks for s in seeds if not (v == "s8" and k < 16)]


def _size_of(variant: str) -> int | None:
    """``s`` of a variant ``s<s>``; ``None`` for ``sparsest`` and ``least_error``."""
    return int(variant[1:]) if variant[0] == "s" and variant[1:].isdigit() else None


def _options(variant: str) -> dict:
    size = _size_of(variant)
    return {"objective": variant} if size is None else {"subset_size": size}


def cell(config: FixedSizeCell) -> dict:
    target = make_target(config.d, config.widths, config.family, config.target_seed)
    ticket = construct(
        target,
        method="subsetsum",
        eps=config.eps,
        seed=config.seed,
        block_sizes=[config.k] * target.depth,
        on_failure="best_effort",
        **_options(config.variant),
    )
    return {
        "success": ticket.meta["failures"] == 0,
        "failures": ticket.meta["failures"],
        "nnz": ticket.nnz,
        "g_parameters": ticket.network.parameter_count,
        "density": ticket.nnz / ticket.network.parameter_count,
        "certified_error": ticket.certified_error,
    }


# -- report ------------------------------------------------------------------------------------------------


def _summaries(rows: list[Row]) -> list[dict]:
    groups: dict[tuple[str, int], list[Row]] = defaultdict(list)
    for row in rows:
        groups[(row.config["variant"], row.config["k"])].append(row)
    out = []
    for (variant, k), members in sorted(groups.items(), key=lambda kv: (VARIANTS.index(kv[0][0]), kv[0][1])):
        good = [r.result for r in members if r.result["success"]]
        out.append(
            {
                "variant": variant,
                "k": k,
                "seeds": len(members),
                "successes": len(good),
                "success_rate": len(good) / len(members),
                "g_parameters": members[0].result["g_parameters"],
                "mean_nnz": float(np.mean([g["nnz"] for g in good])) if good else math.nan,
                "mean_density": float(np.mean([g["density"] for g in good])) if good else math.nan,
                "mean_certified_error": float(np.mean([g["certified_error"] for g in good])) if good else math.nan,
            }
        )
    return out


def natale_width(size: float, eta: float, constant: float) -> float:
    """The least ``n >= 2 size`` with ``n >= constant log2^2(size / eta) / H2(size / n)`` (Natale et al. 2024,
    RFSS; ``H2`` the binary entropy), by bisection on ``n`` (the right side decreases in ``n``)."""

    def need(n: float) -> float:
        p = size / n
        entropy = -p * math.log2(p) - (1 - p) * math.log2(1 - p)
        return constant * math.log2(size / eta) ** 2 / entropy

    low, high = 2.0 * size, 2.0 * size
    if need(low) <= low:
        return low
    while need(high) > high:
        high *= 2
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if need(mid) > mid else (low, mid)
    return high


def _fit_constant(points: list[tuple[int, float]], eta: float) -> float:
    """The ``C`` minimising the squared log error of :func:`natale_width` against measured ``n`` (golden section)."""
    if not points:
        return math.nan

    def loss(log_c: float) -> float:
        return sum((math.log(natale_width(s, eta, math.exp(log_c))) - math.log(n)) ** 2 for s, n in points)

    a, b = math.log(1e-4), math.log(10.0)
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(80):
        c1, c2 = b - ratio * (b - a), a + ratio * (b - a)
        a, b = (a, c2) if loss(c1) < loss(c2) else (c1, b)
    return math.exp((a + b) / 2)


def write_report(directory: Path, rows: list[Row]) -> list[Path]:
    summaries = _summaries(rows)
    paths = [write_csv(directory / f"{NAME}.csv", summaries, COLUMNS)]
    first = rows[0].config if rows else FixedSizeCell(variant="sparsest", k=8, seed=0).to_dict()
    dims = (first["d"], *first["widths"])
    eta = min(bounds.per_weight_tolerance(dims, first["eps"]))
    smallest: dict[str, dict] = {}
    for variant in VARIANTS:
        ok = [s for s in summaries if s["variant"] == variant and s["success_rate"] >= SUCCESS_RATE]
        if ok:
            smallest[variant] = min(ok, key=lambda s: s["k"])
    measured = [(size, smallest[v]["k"] / 2) for v in smallest if (size := _size_of(v)) is not None]
    constant = _fit_constant(measured, eta)
    table = []
    for variant in VARIANTS:
        s = smallest.get(variant)
        size = _size_of(variant)
        bound = natale_width(size, eta, constant) if size is not None and not math.isnan(constant) else math.nan
        if s is None:
            table.append([variant, f"none up to k = {max(x['k'] for x in summaries)}", "-", "-", "-", fmt(2 * bound)])
        else:
            density, certified = fmt(s["mean_density"]), fmt(s["mean_certified_error"])
            table.append([variant, s["k"], f"{s['g_parameters']:,}", density, certified, fmt(2 * bound)])
    label = target_label(first["d"], first["widths"], first["family"], first["target_seed"])
    md = (
        f"# {NAME}\n\nSubset-sum tickets of the {label} at eps = {first['eps']} (per-weight tolerance eta = {eta:.4g} in"
        f" the binding layer), block size k in every layer, {summaries[0]['seeds'] if summaries else 0} seeds of G per"
        f" point. `sK`: every weight from exactly K units (Natale et al. 2024); `sparsest` / `least_error`: any size.\n\n"
        f"Smallest block size at which >= {SUCCESS_RATE:.0%} of the seeds succeed, and the ticket there (density ="
        " non-zeros / G's parameters, mean over the successful seeds); last column: Natale et al.'s bound"
        f" 2 n*(s), n*(s) = C log2^2(s/eta) / H2(s/n*), with C = {fmt(constant)} fitted to the measured sizes (the paper's"
        " constant is not explicit: the shape in s is the comparison, not the level).\n\n"
        + markdown_table(["variant", "smallest k", "G's parameters", "density", "certified error", "Natale et al.: 2 n*"], table)
        + "\n"
    )
    paths.append(write_text(directory / "summary.md", md))
    if summaries:
        paths.append(_figure(directory, summaries, smallest, eta, constant))
    return paths


def _figure(directory: Path, summaries: list[dict], smallest: dict, eta: float, constant: float) -> Path:
    fig, axes = new_figure(2)
    density, widths = axes[0]
    for variant in VARIANTS:
        ok = [s for s in summaries if s["variant"] == variant and s["success_rate"] >= SUCCESS_RATE]
        if ok:
            style = "--" if _size_of(variant) is None else "-"
            density.plot([s["g_parameters"] for s in ok], [s["mean_density"] for s in ok], style, marker="o", ms=3, label=variant)
    density.set_xscale("log")
    density.set_yscale("log")
    density.set_xlabel("G's parameters")
    density.set_ylabel(f"ticket density (where >= {SUCCESS_RATE:.0%} of seeds succeed)")
    density.legend(fontsize=7, ncol=2)
    sizes = [s for s in SIZES if f"s{s}" in smallest]
    widths.plot(sizes, [smallest[f"s{s}"]["k"] for s in sizes], "o", label="measured smallest k")
    if not math.isnan(constant):
        grid = np.linspace(1, max(SIZES), 50)
        bound = [2 * natale_width(float(s), eta, constant) for s in grid]
        widths.plot(grid, bound, "-", label=f"Natale et al. shape, C = {constant:.2g} fitted")
    widths.set_xlabel("subset size s")
    widths.set_ylabel("block size k (2n candidates)")
    widths.legend(fontsize=8)
    fig.suptitle("Fixed-size subsets: density against G's size")
    return save_figure(fig, directory / f"{NAME}.png")


EXPERIMENT = Experiment(NAME, FixedSizeCell, grid, cell, write_report, "ticket density vs G's size for fixed subset sizes")
