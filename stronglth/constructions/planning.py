"""The plan of a construction, computed before any value of G is read: G's widths and parameter
count, the values the construction will read (or, for subset sums, also compute), an estimated
time from a measured rate and an estimated memory.

:func:`~stronglth.constructions.plan` returns it; :func:`~stronglth.constructions.construct`
refuses a construction whose plan exceeds ``max_values`` (:data:`DEFAULT_MAX_VALUES`, a request a
2-core machine finishes in minutes) with a :class:`~stronglth.errors.TooLargeError` that prints the
plan and how to raise the limit. ``stronglth construct --dry-run`` prints the plan and exits.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stronglth.errors import InvalidInputError, TooLargeError

__all__ = [
    "ConstructionPlan",
    "DEFAULT_MAX_VALUES",
    "check_plan",
    "check_max_values",
    "bind_options",
    "format_seconds",
    "format_bytes",
]

DEFAULT_MAX_VALUES = 5 * 10**10
"""The default ``max_values``: 5e10 values, about 3 minutes of the matching rule's scan and 8 of the
best rule's with 2 processes on 2 cores (the rates of :class:`ConstructionPlan`)."""


def format_seconds(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.2g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86_400:.3g} days"


def format_bytes(size: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size:.0f} B"


@dataclass(frozen=True)
class ConstructionPlan:
    """What a construction will do, known before it reads G.

    ``values`` counts the values of G the construction reads (each generated once), plus, for the
    subset-sum construction, the subset sums its solver enumerates (``2^(w/2)`` per problem and
    side of ``w`` candidates): the work that sets its time. ``seconds`` is ``values / (rate *
    processes)`` with ``rate`` measured per process on this project's 2-core machine; ``memory`` is
    the working set (buffers per process and the bookkeeping of the scan), both estimates.
    ``final`` is ``False`` when the block sizes are where a search starts (``block_sizes="auto"``):
    the construction may then try other sizes. ``typical_values``, when set, is what a construction
    that may stop early (the Malach ``selection="first"``) reads on average, an estimate; ``values``
    stays the most it can read, which ``max_values`` is checked against, and ``seconds`` is then
    the typical time.
    """

    method: str
    target_dims: tuple[int, ...]
    block_sizes: tuple[int, ...]
    final: bool
    widths: tuple[int, ...]
    parameter_count: int
    values: int
    rate: float
    jobs: int
    memory: int
    typical_values: int | None = None

    @property
    def seconds(self) -> float:
        values = self.values if self.typical_values is None else self.typical_values
        return values / (self.rate * self.jobs)

    def line(self) -> str:
        """One line: the plan as ``stronglth construct`` prints it before it starts."""
        sizes = " / ".join(f"{k:,}" for k in self.block_sizes) + ("" if self.final else " (start of the auto search)")
        reads = f"reads {self.values:,} values" if self.typical_values is None else (
            f"reads at most {self.values:,} values (typically about {self.typical_values:.2g}: it stops early)"
        )  # fmt: skip
        return (
            f"plan: {self.method}, block sizes {sizes}; G {' x '.join(f'{n:,}' for n in self.widths)},"
            f" {self.parameter_count:,} weights (generated on the fly); {reads},"
            f" about {format_seconds(self.seconds)} with {self.jobs} process{'es' if self.jobs > 1 else ''},"
            f" about {format_bytes(self.memory)}"
        )

    def to_dict(self) -> dict[str, object]:
        extra = {} if self.typical_values is None else {"typical_values": self.typical_values}
        return extra | {
            "method": self.method,
            "target_dims": list(self.target_dims),
            "block_sizes": list(self.block_sizes),
            "final": self.final,
            "widths": list(self.widths),
            "parameter_count": self.parameter_count,
            "values": self.values,
            "rate": self.rate,
            "jobs": self.jobs,
            "seconds": self.seconds,
            "memory": self.memory,
        }


def check_max_values(max_values: object) -> float:
    """``max_values`` as a number: positive, ``math.inf`` for no limit (bools and strings refused)."""
    if isinstance(max_values, bool) or not isinstance(max_values, (int, float)) or not max_values > 0:
        raise InvalidInputError(f"max_values must be a positive number (math.inf for no limit), got {max_values!r}")
    return float(max_values)


def check_plan(plan: ConstructionPlan, max_values: int | float) -> None:
    """Raise :class:`~stronglth.errors.TooLargeError` (printing the plan and the way out) when the
    plan reads more than ``max_values`` values (a positive number; ``math.inf`` for no limit)."""
    max_values = check_max_values(max_values)
    if plan.values > max_values:
        limit = f"{max_values:,.0f}" if math.isfinite(max_values) else str(max_values)
        raise TooLargeError(
            f"{plan.line()}: more than max_values = {limit}; pass max_values= (CLI: --max-values N) to run it"
            " anyway, or look first with stronglth.constructions.plan() (CLI: --dry-run)"
        )


def bind_options(construction: Callable[..., Any], target: Any, options: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments ``construction(target, **options)`` would see, defaults filled in, so
    that a planner takes exactly its construction's arguments without repeating its signature.
    Unknown or missing keywords are a package error listing the valid ones."""
    parameters = inspect.signature(construction).parameters
    valid = [name for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    if unknown := sorted(set(options) - set(valid)):
        raise InvalidInputError(f"unknown keyword(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    try:
        bound = inspect.signature(construction).bind(target, **options)
    except TypeError as exc:  # a required keyword (eps, seed) is missing
        raise InvalidInputError(f"{construction.__name__}: {exc}") from None
    bound.apply_defaults()
    return {name: value for name, value in bound.arguments.items() if name in valid}
