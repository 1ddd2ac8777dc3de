"""``construction-comparison``: every construction of the literature on the same targets, side by side.

For each construction of :data:`CONSTRUCTIONS` (Malach et al. with the best and the matching rule at
the theorem's width, Pensia et al.'s subset sums, and the later constructions registered in
:data:`stronglth.METHODS`), each target and each ``eps`` from 0.4 down, one ticket per seed, and
for it: G's parameter count and depth, the ticket's nnz, the sup over the unit ball of the l2 error
(exact for ``d <= 2``: :func:`stronglth.verification.exact_error`), the certified bound, the time of
the construction, and the paper's a-priori parameter count where the paper gives one with explicit
constants (docs/theory.md §16). A cell whose plan (:func:`stronglth.plan`) reads more than
``max_values`` values is not run: its row says ``"too large"`` with the plan's numbers, an answer and
not a number, which is where that construction stops on a 2-core machine.

The report fits G's parameter count against ``1/eps`` (a power law: Malach et al.'s polynomial
rate) and against ``log(1/eps)`` (the logarithmic constructions' rate), with 95% intervals, beside
the rate each paper proves.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stronglth import bounds
from stronglth._io import write_csv, write_text
from stronglth.constructions import construct, plan
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
from stronglth.verification import exact_error

NAME = "construction-comparison"


@dataclass(frozen=True)
class Construction:
    """One construction as the comparison runs it: the method of :func:`stronglth.construct`, its
    keyword arguments, the rate of G's size its paper proves, and that paper's a-priori parameter
    count (``None``: the paper gives no explicit constant)."""

    method: str
    options: dict[str, Any]
    paper: str
    rate: str
    apriori: Callable[[tuple[int, ...], float, float], int | None] = field(default=lambda dims, eps, delta: None)


def _malach_apriori(rule: str) -> Callable[[tuple[int, ...], float, float], int | None]:
    def parameters(dims: tuple[int, ...], eps: float, delta: float) -> int:
        ks = bounds.theorem_block_sizes(dims, eps, delta, rule=rule)
        return sum(dims[i - 1] * k * (dims[i - 1] + dims[i]) for i, k in enumerate(ks, start=1))

    return parameters


def _orseau_apriori(dims: tuple[int, ...], eps: float, delta: float) -> int:
    widths = bounds.orseau_widths(dims, eps, delta)
    return sum(widths[t] * widths[t + 1] for t in range(len(widths) - 1))


def _burkholz_apriori(dims: tuple[int, ...], eps: float, delta: float) -> int:
    return bounds.burkholz_parameter_count(dims, bounds.burkholz_theorem_block_sizes(dims, eps, delta))


CONSTRUCTIONS: dict[str, Construction] = {
    "malach-best": Construction(
        "malach",
        {"block_sizes": "theorem", "rule": "best", "on_failure": "best_effort", "progress": False},
        "Malach et al. 2020",
        "poly(1/eps): ~1/eps per block, ~1/eps^2 where |w| reaches 1 (§4.4)",
        _malach_apriori("best"),
    ),
    "malach-matching": Construction(
        "malach",
        {"block_sizes": "theorem", "rule": "matching", "on_failure": "best_effort", "progress": False},
        "Malach et al. 2020",
        "poly(1/eps): ~1/eps^2 per block (p_match ~ eta^2, §4.3)",
        _malach_apriori("matching"),
    ),
    "subsetsum": Construction(
        "subsetsum",
        {"on_failure": "best_effort", "progress": False},
        "Pensia et al. 2020",
        "O(log(1/eps)) per weight (no explicit constant)",
    ),
    "orseau": Construction(
        "orseau",
        {"on_failure": "best_effort"},
        "Orseau et al. 2020",
        "O(log(1/eps)) units per weight, hyperbolic G",
        _orseau_apriori,
    ),
    "burkholz": Construction(
        "burkholz",
        {"on_failure": "best_effort"},
        "Burkholz 2022",
        "O(log(1/eps)) per weight, depth l + 1",
        _burkholz_apriori,
    ),
}
"""The constructions compared, by the name of the experiment's rows."""


@dataclass(frozen=True)
class ComparisonCell(SweepConfig):
    """One ticket: ``construction`` (a key of :data:`CONSTRUCTIONS`), ``eps``, ``delta``, G ``seed``,
    target (``d``, ``widths``, ``family``, ``target_seed``); cells planned above ``max_values`` are not run."""

    construction: str
    eps: float
    seed: int
    d: int = 2
    widths: tuple[int, ...] = (4, 1)
    family: str = "gaussian"
    target_seed: int = 0
    delta: float = 0.05
    max_values: float = 2e9

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.construction in CONSTRUCTIONS, f"construction must be one of {sorted(CONSTRUCTIONS)}, got {self.construction!r}"
        )
        require(self.eps > 0 and 0 < self.delta < 1, f"need eps > 0 and 0 < delta < 1, got {self.eps}, {self.delta}")
        require(self.seed >= 0 and self.max_values > 0, "bad seed or max_values")
        require(self.d <= 2, "the comparison measures the sup error exactly: it needs d <= 2")
        check_target_fields(self.d, self.widths, self.family)


TARGETS = ((2, (4, 1)), (2, (3, 3, 1)), (1, (2,)))
"""The targets of the default grid: depth 2 and 3 with d = 2, and depth 1 with d = 1."""


def grid(full: bool = False) -> list[ComparisonCell]:
    """Default: every construction, the targets of :data:`TARGETS`, ``eps = 0.4 / 2^j`` for
    ``j = 0..11`` (0.4 down to about 2e-4; Malach's cells stop being run where their plan passes
    ``max_values``), seeds 0-2. Full: down to ``0.4 / 2^13`` (about 5e-5), seeds 0-4."""
    seeds = range(5) if full else range(3)
    epss = tuple(0.4 * 2.0**-j for j in range(14 if full else 12))
    return [
        ComparisonCell(construction=name, eps=eps, seed=s, d=d, widths=widths)
        for d, widths in TARGETS
        for name in CONSTRUCTIONS
        for eps in epss
        for s in seeds
    ]


def cell(config: ComparisonCell) -> dict[str, Any]:
    spec = CONSTRUCTIONS[config.construction]
    target = make_target(config.d, config.widths, config.family, config.target_seed)
    options = {"eps": config.eps, "delta": config.delta, "seed": config.seed, **spec.options}
    apriori = spec.apriori(target.dims, config.eps, config.delta)
    the_plan = plan(target, spec.method, **options)
    if the_plan.values > config.max_values:
        return {
            "status": "too large",
            "planned_values": the_plan.values,
            "planned_parameters": the_plan.parameter_count,
            "planned_seconds": the_plan.seconds,
            "apriori_parameters": apriori,
        }
    start = time.perf_counter()
    ticket = construct(target, spec.method, **options, max_values=config.max_values)
    seconds = time.perf_counter() - start
    exact = exact_error(ticket, target)
    return {
        "status": "ok" if not ticket.meta.get("failures") else "failed events",
        "parameters": ticket.network.parameter_count,
        "depth": ticket.network.depth,
        "nnz": ticket.nnz,
        "failures": ticket.meta.get("failures", 0),
        "sup_error": exact.upper,
        "sup_error_status": exact.status,
        "certified": ticket.certified_error,
        "seconds": seconds,
        "apriori_parameters": apriori,
    }


# -- report ------------------------------------------------------------------------------------------------


def aggregate(rows: list[Row]) -> list[dict[str, Any]]:
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for row in rows:
        c = row.config
        groups[(target_label(c["d"], c["widths"], c["family"], c["target_seed"]), c["construction"], c["eps"])].append(row)
    out = []
    for (label, name, eps), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], -kv[0][2])):
        done = [r.result for r in group if r.result["status"] != "too large"]
        record: dict[str, Any] = {"target": label, "construction": name, "eps": eps, "seeds": len(group), "run": len(done)}
        if not done:
            record["status"] = "too large"
            record["planned_parameters"] = group[0].result["planned_parameters"]
            record["planned_seconds"] = group[0].result["planned_seconds"]
        else:
            record.update(
                status="ok" if all(r["status"] == "ok" for r in done) else "failed events in some seeds",
                depth=done[0]["depth"],
                parameters=median([r["parameters"] for r in done]),
                nnz=median([r["nnz"] for r in done]),
                sup_error=max(r["sup_error"] for r in done),
                certified=max(r["certified"] for r in done),
                seconds=median([r["seconds"] for r in done]),
            )
        record["apriori_parameters"] = group[0].result["apriori_parameters"]
        out.append(record)
    return out


def _fits(records: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for (label, name), rs in sorted(_by_setting(records).items()):
        ok = [r for r in rs if r["status"] != "too large"]
        inv = np.array([1.0 / r["eps"] for r in ok])
        params = np.array([r["parameters"] for r in ok])
        power = power_fit(inv, params)
        log = power_fit(np.log(inv), params)
        rows.append([label, name, len(ok), power.text(), log.text(), CONSTRUCTIONS[name].rate if name in CONSTRUCTIONS else "-"])
    return rows


def _by_setting(records: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    settings: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        settings[(r["target"], r["construction"])].append(r)
    return settings


def write_report(directory: Path, rows: list[Row]) -> list[Path]:
    records = aggregate(rows)
    files = [write_csv(directory / f"{NAME}.csv", records)]
    targets = sorted({r["target"] for r in records})
    names = sorted({r["construction"] for r in records})
    fig, axes = new_figure(len(targets))
    for ax, label in zip(axes[0], targets, strict=True):
        for i, name in enumerate(names):
            rs = sorted((r for r in records if r["target"] == label and r["construction"] == name), key=lambda r: -r["eps"])
            ok = [r for r in rs if r["status"] != "too large"]
            if ok:
                ax.plot([1 / r["eps"] for r in ok], [r["parameters"] for r in ok], "o-", color=f"C{i}", label=name)
            known = [r for r in rs if r["apriori_parameters"]]
            if known:
                ax.plot([1 / r["eps"] for r in known], [r["apriori_parameters"] for r in known], ":", color=f"C{i}", linewidth=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("1 / eps")
        ax.set_ylabel("G's parameters (median over seeds)")
        ax.set_title(f"{label}\n(dotted: the paper's a-priori count)", fontsize=8)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=6)
    files.append(save_figure(fig, directory / f"{NAME}.png"))
    fit_table = markdown_table(
        [
            "target",
            "construction",
            "eps values run",
            "params ~ (1/eps)^b: b [95% CI]",
            "params ~ log(1/eps)^b: b [95% CI]",
            "the paper's rate",
        ],
        _fits(records),
    )
    sections = []
    for label in targets:
        table = markdown_table(
            ["construction", "eps", "seeds run", "G's depth", "G's parameters", "a-priori (paper)", "ticket nnz",
             "sup error (l2, exact, max over seeds)", "certified (max)", "time (s, median)", "status"],
            [
                [r["construction"], fmt(r["eps"]), f"{r['run']}/{r['seeds']}", r.get("depth"),
                 fmt(r.get("parameters", r.get("planned_parameters"))), fmt(r["apriori_parameters"]), fmt(r.get("nnz")),
                 fmt(r.get("sup_error")), fmt(r.get("certified")), fmt(r.get("seconds")), r["status"]]
                for r in records if r["target"] == label
            ],
        )  # fmt: skip
        sections.append(f"## {label}\n\n{table}")
    text = (
        f"# {NAME}: every construction on the same targets\n\nG's parameter count, depth, the ticket's nnz, the"
        " exact sup over the unit ball of the l2 error, the certified bound and the construction's time, per"
        ' construction and eps; rows "too large" were not run (their plan reads more values than the cell\'s'
        " `max_values`) and give the planned parameter count. Fits over the eps values run (median parameter"
        f" count over seeds), 95% intervals.\n\n{fit_table}\n\n" + "\n\n".join(sections) + f"\n\n![{NAME}]({NAME}.png)\n"
    )
    files.append(write_text(directory / "summary.md", text))
    return files


EXPERIMENT = Experiment(
    NAME,
    ComparisonCell,
    grid,
    cell,
    write_report,
    "every construction (Malach best/matching, subset sums, ...) on the same targets: G's size, nnz, errors, time vs eps",
)

__all__ = [
    "EXPERIMENT",
    "CONSTRUCTIONS",
    "Construction",
    "ComparisonCell",
    "TARGETS",
    "grid",
    "cell",
    "aggregate",
    "write_report",
]
