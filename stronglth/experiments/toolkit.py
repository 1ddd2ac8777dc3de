"""The public toolkit of scaling experiments: what a custom experiment needs, and the built-ins use.

A custom experiment (docs/guide-experiment.md, "Your own scaling experiment") is a module with a
config dataclass (a :class:`stronglth.sweep.SweepConfig`), a ``grid``, a ``cell`` and a ``report``,
bundled as ``EXPERIMENT = stronglth.sweep.Experiment(...)``; ``stronglth sweep --module FILE NAME``
runs it. This module holds the pieces such an experiment is built from:

- targets from config fields: :func:`make_target`, :func:`check_target_fields`, :func:`target_label`,
  :data:`ONE_WEIGHT`, and :func:`require` (a config check raising the package's error);
- the smallest-block-size search: :func:`construction_succeeds` (one construction, one seed of G),
  :func:`smallest_block_size` (the smallest ``k``, the same in every layer, at which a construction
  succeeds for at least ``1 - delta`` of the seeds, as the ``width-vs-eps`` experiment measures it)
  and :func:`threshold_search` (the bracketing and geometric bisection behind it);
- statistics: :func:`linear_fit` and :func:`power_fit` (least squares with a t confidence interval on
  the slope, :class:`Fit`), :func:`clopper_pearson` (exact binomial intervals), :func:`median`;
- files in the experiments' style: :func:`new_figure` and :func:`save_figure` (Agg canvas, no pyplot,
  PNG without timestamps, written atomically), :func:`markdown_table`, :func:`fmt`, :func:`write_csv`,
  :func:`write_text` (atomic).

The predictions the search is compared with are those of docs/theory.md §4 (Malach et al. 2020 and
Pensia et al. 2020, via :mod:`stronglth.bounds`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stronglth import bounds
from stronglth._extras import check_installed
from stronglth._io import atomic_write, write_csv, write_text
from stronglth.constructions import construct
from stronglth.constructions.subsetsum.auto import auto_start
from stronglth.constructions.subsetsum.solver import MAX_K
from stronglth.errors import InvalidInputError, TicketNotFound
from stronglth.target import TARGET_FAMILIES, TargetNetwork, random_target

__all__ = [
    "BLOCK_METHODS",
    "BlockSizeSearch",
    "Fit",
    "ONE_WEIGHT",
    "check_target_fields",
    "clopper_pearson",
    "construction_succeeds",
    "fmt",
    "linear_fit",
    "make_target",
    "markdown_table",
    "median",
    "new_figure",
    "power_fit",
    "require",
    "save_figure",
    "smallest_block_size",
    "target_label",
    "threshold_search",
    "write_csv",
    "write_text",
]

BLOCK_METHODS = ("malach-best", "malach-matching", "subsetsum")
"""The constructions :func:`construction_succeeds` runs: Malach's with the best-product or the
matching rule (docs/theory.md §3-4), and the subset-sum construction of Pensia et al. (2020)."""


ONE_WEIGHT = "one-weight"
"""Target family of the single weight ``w = 1`` (``d = 1``, widths ``(1,)``): the union bound over
its two events is nearly tight (docs/theory.md §4)."""


def check_target_fields(d: int, widths: Sequence[int], family: str) -> None:
    """Refuse (:class:`~stronglth.errors.InvalidInputError`) target fields :func:`make_target` cannot
    build: an unknown family, ``d < 1``, no or non-positive widths, :data:`ONE_WEIGHT` not 1x1. Call
    it in a config's ``__post_init__`` so that a bad grid fails before any cell runs."""
    if family == ONE_WEIGHT:
        if d != 1 or tuple(widths) != (1,):
            raise InvalidInputError(
                f"family {ONE_WEIGHT!r} is the 1x1 target w = 1: it needs d=1, widths=(1,), got d={d}, widths={widths}"
            )
        return
    if family not in TARGET_FAMILIES:
        raise InvalidInputError(f"unknown target family {family!r}; choose {ONE_WEIGHT!r} or one of {sorted(TARGET_FAMILIES)}")
    if d < 1 or not widths or min(widths) < 1:
        raise InvalidInputError(f"a target needs d >= 1 and positive widths, got d={d}, widths={widths}")


def make_target(d: int, widths: Sequence[int], family: str, target_seed: int) -> TargetNetwork:
    """The target a config names: :func:`~stronglth.random_target` ``(d, widths, seed=target_seed,
    family=family)``, or the single weight ``w = 1`` for family :data:`ONE_WEIGHT`."""
    check_target_fields(d, widths, family)
    if family == ONE_WEIGHT:
        return TargetNetwork([np.array([[1.0]])])
    return random_target(d, list(widths), seed=target_seed, family=family)


def target_label(d: int, widths: Sequence[int], family: str, target_seed: int) -> str:
    """A figure title's name of the target: ``"2-2-1 gaussian target (seed 0)"``."""
    if family == ONE_WEIGHT:
        return "one weight w = 1"
    return f"{'-'.join(str(n) for n in (d, *widths))} {family} target (seed {target_seed})"


def require(condition: bool, message: str) -> None:
    """Raise :class:`~stronglth.errors.InvalidInputError` with ``message`` unless ``condition``."""
    if not condition:
        raise InvalidInputError(message)


# -- statistics --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """Least squares ``y = intercept + slope x`` with a two-sided t confidence interval on the slope
    (``n - 2`` degrees of freedom; ``nan`` bounds when ``n < 3``)."""

    slope: float
    low: float
    high: float
    intercept: float
    n: int
    r2: float
    level: float = 0.95

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {
            f"{prefix}slope": self.slope,
            f"{prefix}low": self.low,
            f"{prefix}high": self.high,
            f"{prefix}intercept": self.intercept,
            f"{prefix}n": self.n,
            f"{prefix}r2": self.r2,
        }

    def text(self) -> str:
        if math.isnan(self.low):
            return f"{self.slope:.3g} (n = {self.n}, no interval)"
        return f"{self.slope:.3g} [{self.low:.3g}, {self.high:.3g}]"


def linear_fit(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, level: float = 0.95) -> Fit:
    """Ordinary least squares of ``y`` on ``x`` with a t-based ``level`` interval on the slope."""
    from scipy import stats

    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[ok], ys[ok]
    n = int(xs.size)
    if n < 2 or np.ptp(xs) == 0:
        return Fit(math.nan, math.nan, math.nan, math.nan, n, math.nan, level)
    xm, ym = xs.mean(), ys.mean()
    sxx = float(np.sum((xs - xm) ** 2))
    slope = float(np.sum((xs - xm) * (ys - ym)) / sxx)
    intercept = float(ym - slope * xm)
    resid = ys - (intercept + slope * xs)
    sst = float(np.sum((ys - ym) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / sst if sst > 0 else 1.0
    if n < 3:
        return Fit(slope, math.nan, math.nan, intercept, n, r2, level)
    se = math.sqrt(float(np.sum(resid**2)) / (n - 2) / sxx)
    half = float(stats.t.ppf(0.5 + level / 2, n - 2)) * se
    return Fit(slope, slope - half, slope + half, intercept, n, r2, level)


def power_fit(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, level: float = 0.95) -> Fit:
    """``y ~ C x^slope``: least squares on ``(log x, log y)``."""
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    ok = (xs > 0) & (ys > 0)
    return linear_fit(np.log(xs[ok]), np.log(ys[ok]), level)


def clopper_pearson(failures: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) two-sided ``level`` interval of a binomial proportion
    ``failures / trials`` (Clopper & Pearson 1934): its coverage is at least ``level`` for every
    true proportion; ``(0, 1)`` when ``trials <= 0``."""
    from scipy import stats

    if trials <= 0:
        return 0.0, 1.0
    alpha = 1.0 - level
    low = 0.0 if failures == 0 else float(stats.beta.ppf(alpha / 2, failures, trials - failures + 1))
    high = 1.0 if failures == trials else float(stats.beta.ppf(1 - alpha / 2, failures + 1, trials - failures))
    return low, high


def median(values: Sequence[float]) -> float:
    """The median of the finite values (``None`` and NaN skipped); NaN when there are none."""
    v = [x for x in values if x is not None and math.isfinite(x)]
    return float(np.median(v)) if v else math.nan


# -- files ------------------------------------------------------------------------------------------------------


def new_figure(ncols: int = 1, nrows: int = 1, size: tuple[float, float] | None = None) -> tuple[Any, Any]:
    """A matplotlib Figure with an Agg canvas (no pyplot, no global state) and its axes array."""
    check_installed("matplotlib", extra="plots", purpose="the experiments' figures")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size or (5.2 * ncols, 4.2 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save_figure(fig: Any, path: str | Path) -> Path:
    """Write ``fig`` as a PNG at 90 dpi without a ``Software`` stamp (the same bytes on every run),
    atomically; returns the path."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    with atomic_write(path, "wb") as f:
        f.write(buffer.getvalue())
    return Path(path)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table; floats by 4 significant digits, ``None`` and NaN as ``-``."""

    def cell(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return "-" if math.isnan(v) else f"{v:.4g}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: float | None, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, ``-`` for ``None`` and NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}g}"


# -- the smallest-block-size search ------------------------------------------------------------


def construction_succeeds(
    target: TargetNetwork, method: str, *, eps: float, delta: float, seed: int, block_sizes: Sequence[int]
) -> bool:
    """Whether ``method`` (one of :data:`BLOCK_METHODS`) finds a ticket of ``target`` within ``eps``
    in the random network of seed ``seed`` with these ``block_sizes`` (one per layer): False when it
    raises :class:`~stronglth.errors.TicketNotFound`. ``delta`` is passed to
    :func:`stronglth.construct` as is."""
    require(method in BLOCK_METHODS, f"method must be one of {BLOCK_METHODS}, got {method!r}")
    ks = [int(k) for k in block_sizes]
    try:
        if method == "subsetsum":
            construct(target, method="subsetsum", eps=eps, delta=delta, seed=seed, block_sizes=ks, progress=False)
        else:
            rule = method.split("-", 1)[1]
            construct(target, method="malach", eps=eps, delta=delta, seed=seed, block_sizes=ks, rule=rule, progress=False)
    except TicketNotFound:
        return False
    return True


def threshold_search(passes: Callable[[int], bool], start: int, cap: int, rtol: float) -> tuple[int | None, int]:
    """``(k, k_fail)``: ``passes(k)`` holds and ``passes(k_fail)`` does not (``k_fail = 0``: none
    failed), with ``k <= max(k_fail + 1, k_fail (1 + rtol))``; ``k = None`` if even ``cap`` fails.
    Doubling or halving from ``start`` brackets the threshold, geometric bisection narrows it; every
    ``k`` tried lies in ``[1, cap]``. ``passes`` need not be monotone: ``k`` is then *a* passing
    block size above a failing one, not necessarily the smallest passing one."""
    lo, hi = 0, None
    k = max(1, min(start, cap))
    if passes(k):
        hi = k
        while hi > 1:
            k = max(1, hi // 2)
            if passes(k):
                hi = k
            else:
                lo = k
                break
    else:
        lo = k
        while hi is None:
            if lo >= cap:
                return None, lo
            k = min(2 * lo, cap)
            if passes(k):
                hi = k
            else:
                lo = k
    while hi - lo > 1 and hi > lo * (1 + rtol):
        mid = int(round(math.sqrt(lo * hi))) if lo > 0 else hi // 2
        mid = min(max(mid, lo + 1), hi - 1)
        if passes(mid):
            hi = mid
        else:
            lo = mid
    return hi, lo


@dataclass(frozen=True)
class BlockSizeSearch:
    """The result of :func:`smallest_block_size`.

    ``k``: a block size at which at least ``seeds - allowed_failures`` seeds succeed (``None``: not
    even ``cap``); ``k_fail``: the largest block size tried below it that fails (0: none failed), so
    the threshold of the success rate lies in ``(k_fail, k]``; ``successes``: the exact number of
    seeds succeeding at ``k`` (``None`` without ``k``); ``theorem_k``: the largest a-priori block size
    of docs/theory.md §4 for Malach's rules (:func:`stronglth.bounds.theorem_block_sizes`; ``None``
    for subset-sum, which has no constant-explicit one); ``constructions``: how many were run."""

    k: int | None
    k_fail: int
    successes: int | None
    allowed_failures: int
    seeds: int
    theorem_k: int | None
    start: int
    cap: int
    constructions: int

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict of JSON values (a cell's result)."""
        return asdict(self)


def smallest_block_size(
    target: TargetNetwork,
    method: str,
    *,
    eps: float,
    delta: float,
    seeds: int,
    rtol: float = 0.1,
    start: int | None = None,
    cap: int | None = None,
) -> BlockSizeSearch:
    """The smallest block size ``k`` (the same in every layer) at which ``method`` succeeds for at
    least ``1 - delta`` of the seeds ``0 .. seeds-1`` of G, to within ``rtol``, as the built-in
    ``width-vs-eps`` experiment measures it.

    Success at one ``k`` is counted with early stopping (it stops once the verdict is certain); the
    count at the final ``k`` is exact. Default ``start`` and ``cap``: for subset-sum the empirical
    auto rule (:func:`stronglth.constructions.subsetsum.auto.auto_start`) and twice the solver's
    largest block; for Malach's rules a quarter of and 8 times the theorem's block size. Whether one
    seed succeeds need not be monotone in ``k`` (a block reads other stream offsets when ``k``
    changes), so ``k`` is the threshold of a noisy, increasing success rate (:func:`threshold_search`).
    """
    require(method in BLOCK_METHODS, f"method must be one of {BLOCK_METHODS}, got {method!r}")
    require(0 < delta < 1, f"delta must lie in (0, 1), got {delta}")
    require(isinstance(seeds, int) and seeds >= 1, f"seeds must be a positive integer, got {seeds!r}")
    require(rtol > 0, f"rtol must be > 0, got {rtol}")
    dims = target.dims
    etas = bounds.per_weight_tolerance(dims, eps)
    theorem_k = None
    if method == "subsetsum":
        default_start, default_cap = max(auto_start(dims, etas, delta)), 2 * MAX_K
    else:
        theorem_k = max(bounds.theorem_block_sizes(dims, eps, delta, rule=method.split("-", 1)[1]))
        default_start, default_cap = max(1, theorem_k // 4), 8 * theorem_k
    start = default_start if start is None else int(start)
    cap = default_cap if cap is None else int(cap)
    if start < 1 or cap < 1:
        raise InvalidInputError(f"start and cap must be positive block sizes, got start={start}, cap={cap}")
    allowed = math.floor(delta * seeds + 1e-9)  # success rate >= 1 - delta
    outcomes: dict[tuple[int, int], bool] = {}

    def count(k: int, early: bool) -> int:
        ok = failed = 0
        for seed in range(seeds):
            if (k, seed) not in outcomes:
                outcomes[k, seed] = construction_succeeds(
                    target, method, eps=eps, delta=delta, seed=seed, block_sizes=[k] * target.depth
                )
            if outcomes[k, seed]:
                ok += 1
            else:
                failed += 1
            if early and (failed > allowed or ok >= seeds - allowed):
                break
        return ok

    k, k_fail = threshold_search(lambda k: count(k, early=True) >= seeds - allowed, start, cap, rtol)
    successes = count(k, early=False) if k is not None else None
    return BlockSizeSearch(k, k_fail, successes, allowed, seeds, theorem_k, start, cap, len(outcomes))
