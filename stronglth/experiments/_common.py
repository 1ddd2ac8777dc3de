"""Shared pieces of the experiments: targets from config fields, fits with confidence intervals,
Clopper-Pearson intervals, and files (figures, markdown) written atomically."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stronglth._extras import check_installed
from stronglth._io import atomic_write
from stronglth.errors import InvalidInputError
from stronglth.target import TARGET_FAMILIES, TargetNetwork, random_target

ONE_WEIGHT = "one-weight"
"""Target family of the single weight ``w = 1`` (``d = 1``, widths ``(1,)``): the union bound over
its two events is nearly tight (docs/theory.md §4)."""


def check_target_fields(d: int, widths: Sequence[int], family: str) -> None:
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
    if family == ONE_WEIGHT:
        return "one weight w = 1"
    return f"{'-'.join(str(n) for n in (d, *widths))} {family} target (seed {target_seed})"


def require(condition: bool, message: str) -> None:
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
    """The exact (Clopper-Pearson) two-sided ``level`` interval of a binomial proportion."""
    from scipy import stats

    if trials <= 0:
        return 0.0, 1.0
    alpha = 1.0 - level
    low = 0.0 if failures == 0 else float(stats.beta.ppf(alpha / 2, failures, trials - failures + 1))
    high = 1.0 if failures == trials else float(stats.beta.ppf(1 - alpha / 2, failures + 1, trials - failures))
    return low, high


def median(values: Sequence[float]) -> float:
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
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    with atomic_write(path, "wb") as f:
        f.write(buffer.getvalue())
    return Path(path)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
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
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}g}"
