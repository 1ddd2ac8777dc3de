"""``failure-prob``: how often Malach's construction fails at a given block size, against the
union bound of docs/theory.md §4.

A cell runs the construction for seeds ``first_seed .. first_seed + seeds - 1`` of G at fixed block
sizes and counts :class:`~stronglth.errors.TicketNotFound`. Three predictions are stored with it:

- ``union_bound``: :func:`stronglth.bounds.failure_probability`, the a-priori bound
  ``sum_i N_i (1 - p_i)^{k_i}`` with the worst-case ``p_i`` over admissible weights;
- ``instance_bound``: the same union bound with each event's own ``p(w_oj, eta_i)``
  (:func:`~stronglth.bounds.hit_probability` for rule "best", :func:`~stronglth.bounds.matching_probability`
  for "matching"), capped at 1;
- ``exact`` (the one-weight target ``w = 1`` only): each unit independently lands in the ``P``
  event with probability ``p``, in the ``N`` event with probability ``p`` (the two need opposite
  signs of ``u``), else neither, so ``P(fail) = 2 (1 - p)^k - (1 - 2p)^k``; the union bound
  ``2 (1 - p)^k`` is nearly tight there (``p`` is exact for ``|w| >= eta``).

Rates are reported with Clopper-Pearson 95% intervals over all seeds of a setting.
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
from stronglth.errors import TicketNotFound
from stronglth.experiments.toolkit import (
    ONE_WEIGHT,
    check_target_fields,
    clopper_pearson,
    fmt,
    make_target,
    markdown_table,
    new_figure,
    require,
    save_figure,
    target_label,
)
from stronglth.sweep import Experiment, Row, SweepConfig

NAME = "failure-prob"
RULES = ("best", "matching")


@dataclass(frozen=True)
class FailureProbCell(SweepConfig):
    """Failures of Malach's construction (``rule``, ``eps``, ``block_sizes``) over a run of seeds."""

    family: str
    d: int
    widths: tuple[int, ...]
    target_seed: int
    rule: str
    eps: float
    block_sizes: tuple[int, ...]
    first_seed: int
    seeds: int

    def __post_init__(self) -> None:
        super().__post_init__()
        check_target_fields(self.d, self.widths, self.family)
        require(self.rule in RULES, f"rule must be one of {RULES}, got {self.rule!r}")
        require(self.eps > 0, f"eps must be > 0, got {self.eps}")
        require(
            len(self.block_sizes) == len(self.widths) and min(self.block_sizes) >= 1,
            f"block_sizes must hold one positive integer per layer, got {self.block_sizes}",
        )
        require(
            self.first_seed >= 0 and self.seeds >= 1,
            f"seeds must be >= 1 from first_seed >= 0, got {self.first_seed}, {self.seeds}",
        )


CHUNK = 200
"""Seeds per cell: a setting's seeds are split into cells of this many (parallel, resumable)."""
DELTA = 0.2
"""The delta of the theorem's block sizes drawn for reference (the union bound equals it there)."""


def _cells(family, d, widths, target_seed, rule, eps, block_sizes, seeds) -> list[FailureProbCell]:
    return [
        FailureProbCell(
            family=family,
            d=d,
            widths=widths,
            target_seed=target_seed,
            rule=rule,
            eps=eps,
            block_sizes=block_sizes,
            first_seed=start,
            seeds=min(CHUNK, seeds - start),
        )
        for start in range(0, seeds, CHUNK)
    ]


def grid(full: bool = False) -> list[FailureProbCell]:
    """One weight ``w = 1`` at eps 0.5 (rules best and matching; theorem k at delta 0.2: 201 and
    448), and the 2-2-1 gaussian target (seed 0) at eps 0.2, rule best, block sizes a multiple of
    the theorem's at delta 0.2. Default: 1000 seeds per point; full: 4000 and more points."""
    seeds = 4000 if full else 1000
    cells = []
    one_best = (25, 50, 100, 150, 200, 250, 300, 400, 500, 600, 800) if full else (50, 100, 150, 200, 300, 400, 600)
    one_matching = (50, 100, 200, 300, 450, 600, 800, 1000, 1400, 2000) if full else (100, 200, 300, 450, 600, 1000)
    for k in one_best:
        cells += _cells(ONE_WEIGHT, 1, (1,), 0, "best", 0.5, (k,), seeds)
    for k in one_matching:
        cells += _cells(ONE_WEIGHT, 1, (1,), 0, "matching", 0.5, (k,), seeds)
    theorem = bounds.theorem_block_sizes((2, 2, 1), 0.2, DELTA)
    fractions = (0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0, 1.25, 1.5, 2.0) if full else (0.25, 0.375, 0.5, 0.75, 1.0, 1.5)
    for c in fractions:
        ks = tuple(max(1, round(c * k)) for k in theorem)
        cells += _cells("gaussian", 2, (2, 1), 0, "best", 0.2, ks, seeds)
    return cells


def predictions(target, rule: str, eps: float, block_sizes) -> dict:
    """``union_bound``, ``instance_bound`` and (one-weight target) ``exact`` failure probabilities."""
    dims = target.dims
    etas = bounds.per_weight_tolerance(dims, eps)
    p_of = bounds.hit_probability if rule == "best" else bounds.matching_probability
    instance = 0.0
    for i, (w, k, eta) in enumerate(zip(target.weights, block_sizes, etas, strict=False), start=1):
        p = np.asarray(p_of(w, eta), dtype=np.float64)
        sides = 2 if i == 1 else 1
        instance += sides * float(np.sum(np.exp(k * np.log1p(-np.minimum(p, 1.0 - 1e-300)))))
    exact = None
    if target.dims == (1, 1) and abs(float(target.weights[0][0, 0])) >= etas[0]:
        p_one = float(p_of(float(target.weights[0][0, 0]), etas[0]))
        k = block_sizes[0]
        exact = 2.0 * math.exp(k * math.log1p(-p_one)) - math.exp(k * math.log1p(-2.0 * p_one))
    return {
        "union_bound": bounds.failure_probability(dims, list(block_sizes), eps, rule=rule),
        "instance_bound": min(1.0, instance),
        "exact": exact,
        "theorem_k": list(bounds.theorem_block_sizes(dims, eps, DELTA, rule=rule)),
    }


def cell(config: FailureProbCell) -> dict:
    target = make_target(config.d, config.widths, config.family, config.target_seed)
    failures = 0
    for seed in range(config.first_seed, config.first_seed + config.seeds):
        try:
            construct(
                target,
                method="malach",
                eps=config.eps,
                seed=seed,
                block_sizes=list(config.block_sizes),
                rule=config.rule,
                progress=False,
            )
        except TicketNotFound:
            failures += 1
    return {"failures": failures, "trials": config.seeds, **predictions(target, config.rule, config.eps, config.block_sizes)}


# -- report ------------------------------------------------------------------------------------------------


def aggregate(rows: list[Row]) -> list[dict]:
    """One record per (target, rule, eps, block sizes): failures summed over its cells (distinct seeds)."""
    groups = defaultdict(list)
    for row in rows:
        c = row.config
        groups[(c["family"], c["d"], tuple(c["widths"]), c["target_seed"], c["rule"], c["eps"], tuple(c["block_sizes"]))].append(
            row
        )
    out = []
    for key, group in groups.items():
        family, d, widths, target_seed, rule, eps, ks = key
        seen, failures, trials = set(), 0, 0
        for row in sorted(group, key=lambda r: r.config["first_seed"]):
            span = (row.config["first_seed"], row.config["seeds"])
            if span in seen:
                continue
            seen.add(span)
            failures += row.result["failures"]
            trials += row.result["trials"]
        low, high = clopper_pearson(failures, trials)
        r = group[0].result
        out.append(
            {
                "setting": f"{target_label(d, widths, family, target_seed)}, rule {rule}, eps {eps:g}",
                "family": family,
                "d": d,
                "widths": list(widths),
                "target_seed": target_seed,
                "rule": rule,
                "eps": eps,
                "k": ks[0],
                "block_sizes": list(ks),
                "theorem_k": r["theorem_k"],
                "trials": trials,
                "failures": failures,
                "rate": failures / trials,
                "cp_low": low,
                "cp_high": high,
                "union_bound": r["union_bound"],
                "instance_bound": r["instance_bound"],
                "exact": r["exact"],
                "exact_in_ci": None if r["exact"] is None else bool(low <= r["exact"] <= high),
                "bound_holds": bool(low <= r["union_bound"]),
            }
        )
    out.sort(key=lambda r: (r["setting"], r["k"]))
    return out


def write_report(directory: Path, rows: list[Row]) -> list[Path]:
    records = aggregate(rows)
    files = [write_csv(directory / f"{NAME}.csv", records)]
    settings = sorted({r["setting"] for r in records}, key=lambda s: (not s.startswith("one weight"), s))
    fig, axes = new_figure(len(settings), size=(5.0 * len(settings), 4.2))
    sections = []
    for ax, setting in zip(axes[0], settings, strict=False):
        rs = [r for r in records if r["setting"] == setting]
        k = np.array([r["k"] for r in rs], dtype=float)
        rate = np.array([r["rate"] for r in rs])
        low = np.array([r["cp_low"] for r in rs])
        high = np.array([r["cp_high"] for r in rs])
        pos = rate > 0
        ax.errorbar(
            k[pos],
            rate[pos],
            yerr=[rate[pos] - low[pos], high[pos] - rate[pos]],
            fmt="o",
            color="black",
            capsize=3,
            label="measured (95% Clopper-Pearson)",
        )
        if np.any(~pos):
            ax.plot(k[~pos], high[~pos], "v", color="black", label="no failure: 95% upper bound")
        ax.plot(k, [r["union_bound"] for r in rs], "-", color="tab:red", label="union bound (worst-case p)")
        ax.plot(k, [r["instance_bound"] for r in rs], "--", color="tab:orange", label="union bound (target's own p)")
        if rs[0]["exact"] is not None:
            ax.plot(k, [r["exact"] for r in rs], ":", color="tab:blue", linewidth=2, label="exact: 2(1-p)^k - (1-2p)^k")
        ax.axvline(rs[0]["theorem_k"][0], color="gray", linewidth=0.8, label=f"theorem k at delta = {DELTA:g}")
        ax.set_yscale("log")
        ax.set_ylim(max(1e-4, 0.3 * min(high)), 1.5)
        ax.set_xlabel("block size k" + (" (layer 1; layer 2 scaled alike)" if len(rs[0]["block_sizes"]) > 1 else ""))
        ax.set_ylabel("failure probability")
        ax.set_title(setting, fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
        table = markdown_table(
            ["block sizes", "trials", "failures", "rate", "95% CI", "union bound", "own-p bound", "exact"],
            [
                [
                    ",".join(str(x) for x in r["block_sizes"]),
                    r["trials"],
                    r["failures"],
                    fmt(r["rate"]),
                    f"[{r['cp_low']:.3g}, {r['cp_high']:.3g}]",
                    fmt(r["union_bound"]),
                    fmt(r["instance_bound"]),
                    fmt(r["exact"]),
                ]
                for r in rs
            ],
        )
        checks = [f"union bound >= CI lower end at {sum(r['bound_holds'] for r in rs)}/{len(rs)} points"]
        if rs[0]["exact"] is not None:
            checks.append(f"exact prediction inside the 95% CI at {sum(bool(r['exact_in_ci']) for r in rs)}/{len(rs)} points")
        sections.append(f"## {setting}\n\n{table}\n\n" + "; ".join(checks) + ".")
    files.append(save_figure(fig, directory / f"{NAME}.png"))
    text = (
        f"# {NAME}: failure rate vs block size\n\nMalach's construction at fixed block sizes over many seeds of G; "
        "a failure is `TicketNotFound` (some event has no acceptable unit). Predictions: the union bound of "
        "docs/theory.md §4 with the worst-case `p` (`bounds.failure_probability`), the same with each weight's own `p`, "
        "and for the one-weight target the exact probability.\n\n" + "\n\n".join(sections) + f"\n\n![{NAME}]({NAME}.png)\n"
    )
    files.append(write_text(directory / "summary.md", text))
    return files


EXPERIMENT = Experiment(
    NAME,
    FailureProbCell,
    grid,
    cell,
    write_report,
    "failure rate vs block size with Clopper-Pearson intervals, against the union bound",
)
