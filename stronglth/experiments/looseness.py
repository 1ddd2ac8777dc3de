"""``looseness``: at the theorem's width, how far below ``eps`` the real sup error lies.

Malach's construction at ``block_sizes="theorem"`` (docs/theory.md §4) for the given rule, ``eps`` and
``delta``, one G per seed (``on_failure="best_effort"``: a failed event, probability ``<= delta``,
keeps its best unit and is counted). The sup error over the unit ball is measured exactly for
``d <= 2`` (:func:`stronglth.verification.exact_error`); for ``d > 2`` by gradient ascent (a lower
bound) and by branch-and-bound on the differential bound (docs/theory.md §10; ``bab_seconds`` per
cell), whose true upper bound ``upper`` brackets it: the sup lies in ``[measured, upper]``, and
``eps / upper`` is a *certified* lower bound of the theorem's over-delivery. The certified bound
``E_l`` (docs/theory.md §3) is recorded too.

``eps / measured`` is the factor by which the theorem is conservative for that target; the
exponent ``b`` of ``measured ~ eps^b`` is fitted with a 95% interval (``b = 1`` means a constant
factor).
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
    make_target,
    markdown_table,
    median,
    new_figure,
    power_fit,
    require,
    save_figure,
    target_label,
)
from stronglth.sweep import Experiment, Row, SweepConfig
from stronglth.verification import adversarial_search, exact_error

NAME = "looseness"
RULES = ("best", "matching")


@dataclass(frozen=True)
class LoosenessCell(SweepConfig):
    """One ticket at theorem width: target (``d``, ``widths``, ``family``, ``target_seed``), ``rule``,
    ``eps``, ``delta``, G ``seed``."""

    rule: str
    eps: float
    seed: int
    d: int = 2
    widths: tuple[int, ...] = (2, 1)
    family: str = "gaussian"
    target_seed: int = 0
    delta: float = 0.05
    samples: int = 20_000
    starts: int = 16
    steps: int = 100
    bab_seconds: float = 5.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.rule in RULES, f"rule must be one of {RULES}, got {self.rule!r}")
        require(self.eps > 0 and 0 < self.delta < 1, f"need eps > 0 and 0 < delta < 1, got {self.eps}, {self.delta}")
        require(
            self.seed >= 0 and self.samples >= 1 and self.starts >= 1 and self.steps >= 0 and self.bab_seconds > 0,
            "bad seed or verification settings",
        )
        check_target_fields(self.d, self.widths, self.family)


def grid(full: bool = False) -> list[LoosenessCell]:
    """Default: the 2-2-1 target (rule best, eps = 0.4 / 2^j down to 0.003; matching down to 0.025)
    and the 4-8-8-1 target (best, down to 0.025), seeds 0-9. Full: further down, seeds 0-19, and
    the matching rule on the 4-8-8-1 target at eps 0.4 and 0.2."""
    seeds = range(20) if full else range(10)

    def halvings(count: int) -> tuple[float, ...]:
        return tuple(0.4 * 2.0**-j for j in range(count))

    cells = []
    for s in seeds:
        cells += [LoosenessCell(rule="best", eps=e, seed=s) for e in halvings(10 if full else 8)]
        cells += [LoosenessCell(rule="matching", eps=e, seed=s) for e in halvings(6 if full else 5)]
        cells += [LoosenessCell(rule="best", eps=e, seed=s, d=4, widths=(8, 8, 1)) for e in halvings(7 if full else 5)]
        if full:
            cells += [LoosenessCell(rule="matching", eps=e, seed=s, d=4, widths=(8, 8, 1)) for e in halvings(2)]
    return cells


def cell(config: LoosenessCell) -> dict:
    target = make_target(config.d, config.widths, config.family, config.target_seed)
    ticket = construct(
        target,
        method="malach",
        eps=config.eps,
        delta=config.delta,
        seed=config.seed,
        block_sizes="theorem",
        rule=config.rule,
        on_failure="best_effort",
        progress=False,
    )
    adversarial, point, maxima = adversarial_search(
        ticket, target, n=config.samples, starts=config.starts, steps=config.steps, seed=config.seed
    )
    exact = exact_error(ticket, target).upper if config.d <= 2 else None
    bab = None
    if exact is None:
        bab = exact_error(ticket, target, method="bab", time_limit=config.bab_seconds, start_point=point, seed_points=maxima)
    measured = exact if exact is not None else max(adversarial, bab.lower if bab is not None else 0.0)
    upper = exact if exact is not None else bab.upper if bab is not None else None
    certified = ticket.certified_error
    assert certified is not None  # construct() always certifies its tickets
    return {
        "upper": upper,
        "upper_by": "exact" if exact is not None else "bab",
        "bab_status": None if bab is None else bab.status,
        "eps_over_upper": config.eps / upper if upper else None,
        "block_sizes": list(ticket.meta["block_sizes"]),
        "failures": ticket.meta["failures"],
        "certified": certified,
        "adversarial": adversarial,
        "exact": exact,
        "measured": measured,
        "measured_by": "exact" if exact is not None else "adversarial and bab lower bound",
        "eps_over_measured": config.eps / measured if measured > 0 else None,
        "eps_over_certified": config.eps / certified if certified > 0 else None,
    }


# -- report ------------------------------------------------------------------------------------------------


def aggregate(rows: list[Row]) -> list[dict]:
    groups = defaultdict(list)
    for row in rows:
        c = row.config
        groups[(target_label(c["d"], c["widths"], c["family"], c["target_seed"]), c["rule"], c["delta"], c["eps"])].append(row)
    out = []
    for (label, rule, delta, eps), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], -kv[0][3])):
        measured = [r.result["measured"] for r in group]
        out.append(
            {
                "setting": f"{label}, rule {rule}",
                "rule": rule,
                "delta": delta,
                "eps": eps,
                "seeds": len(group),
                "block_sizes": group[0].result["block_sizes"],
                "measured_by": group[0].result["measured_by"],
                "measured_median": median(measured),
                "measured_min": min(measured),
                "measured_max": max(measured),
                "certified_median": median([r.result["certified"] for r in group]),
                "upper_median": median([r.result["upper"] for r in group]),
                "eps_over_upper_median": median([r.result["eps_over_upper"] for r in group if r.result["eps_over_upper"]]),
                "bab_within_gap": sum(r.result["bab_status"] == "within_gap" for r in group),
                "eps_over_measured_median": median(
                    [r.result["eps_over_measured"] for r in group if r.result["eps_over_measured"]]
                ),
                "eps_over_certified_median": median(
                    [r.result["eps_over_certified"] for r in group if r.result["eps_over_certified"]]
                ),
                "failures": sum(r.result["failures"] > 0 for r in group),
            }
        )
    return out


def write_report(directory: Path, rows: list[Row]) -> list[Path]:
    records = aggregate(rows)
    files = [write_csv(directory / f"{NAME}.csv", records)]
    settings = sorted({r["setting"] for r in records})
    fig, axes = new_figure(2)
    ax, ax2 = axes[0]
    fit_rows, sections = [], []
    for i, setting in enumerate(settings):
        rs = sorted((r for r in records if r["setting"] == setting), key=lambda r: r["eps"])
        eps = np.array([r["eps"] for r in rs])
        med = np.array([r["measured_median"] for r in rs])
        lo = np.array([r["measured_min"] for r in rs])
        hi = np.array([r["measured_max"] for r in rs])
        color = f"C{i}"
        ax.errorbar(
            eps, med, yerr=[med - lo, hi - med], fmt="o-", color=color, capsize=2, label=f"{setting}: {rs[0]['measured_by']}"
        )
        ax.plot(eps, [r["certified_median"] for r in rs], "--", color=color, linewidth=1, label=f"{setting}: certified")
        ax2.plot(eps, [r["eps_over_measured_median"] for r in rs], "o-", color=color, label=setting)
        fit = power_fit(eps, med)
        fit_rows.append([setting, len(rs), fit.text(), fmt(median([r["eps_over_measured_median"] for r in rs]))])
        table = markdown_table(
            [
                "eps",
                "block sizes",
                "seeds",
                f"{rs[0]['measured_by']} sup error (median)",
                "min",
                "max",
                "certified (median)",
                "upper bound (median)",
                "eps / measured",
                "eps / upper (certified)",
                "seeds with a failed event",
            ],
            [
                [
                    fmt(r["eps"]),
                    ",".join(str(k) for k in r["block_sizes"]),
                    r["seeds"],
                    fmt(r["measured_median"]),
                    fmt(r["measured_min"]),
                    fmt(r["measured_max"]),
                    fmt(r["certified_median"]),
                    fmt(r["upper_median"]),
                    fmt(r["eps_over_measured_median"]),
                    fmt(r["eps_over_upper_median"]),
                    r["failures"],
                ]
                for r in reversed(rs)
            ],
        )
        sections.append(f"## {setting} (delta = {rs[0]['delta']:g})\n\n{table}")
    grid_eps = np.array(sorted({r["eps"] for r in records}))
    ax.plot(grid_eps, grid_eps, "-", color="black", linewidth=0.8, label="eps (the theorem's guarantee)")
    for a in (ax, ax2):
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel("eps")
        a.grid(True, which="major", alpha=0.3)
        a.legend(fontsize=6)
    ax.set_ylabel("sup error over the unit ball at theorem width")
    ax.set_title("measured (median, min-max over seeds) and certified error", fontsize=9)
    ax2.set_ylabel("eps / measured sup error")
    ax2.set_title("how conservative the theorem is", fontsize=9)
    files.append(save_figure(fig, directory / f"{NAME}.png"))
    fit_table = markdown_table(["setting", "eps values", "measured ~ eps^b: b [95% CI]", "eps / measured (median)"], fit_rows)
    text = (
        f"# {NAME}: the sup error at the theorem's width\n\nMalach's construction at `block_sizes=\"theorem\"`; the sup error "
        "over the unit ball measured exactly (d = 2), or (d > 2) bracketed by gradient ascent and branch-and-bound"
        " on the differential bound (docs/theory.md §10): `measured` is the best lower bound, `upper` a true upper"
        " bound, so the theorem over-delivers by a factor between `eps / upper` (certified) and `eps / measured`.\n\n"
        f"{fit_table}\n\n" + "\n\n".join(sections) + f"\n\n![{NAME}]({NAME}.png)\n"
    )
    files.append(write_text(directory / "summary.md", text))
    return files


EXPERIMENT = Experiment(
    NAME,
    LoosenessCell,
    grid,
    cell,
    write_report,
    "measured sup error at the theorem's width vs eps: how conservative the theorem is",
)
