"""What every verification method shares: networks as dense ReLU networks, the pair under test,
the error at a point, and the result type of the exact methods (docs/theory.md §6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglth.errors import InvalidInputError, ShapeError
from stronglth.relu import ReLUNetwork
from stronglth.ticket import Ticket

__all__ = [
    "NORMS",
    "STATUSES",
    "ExactResult",
    "check_norm",
    "as_relu_network",
    "network_pair",
    "difference_norm",
    "output_errors",
]

NORMS = ("l2", "linf")
"""The norms of the output difference an error can be measured in (docs/theory.md §6): ``"l2"``, the
Euclidean norm the certified bound controls (the default everywhere), or ``"linf"``, the largest
absolute output coordinate, never larger (a lower bound of the ``l2`` error)."""

STATUSES = ("exact", "within_gap", "inconclusive")
"""``exact``: the bounds agree to floating point (enumeration); ``within_gap``: ``upper <= (1 + rel_gap)
lower``; ``inconclusive``: they do not meet (time limit, or several outputs in ``l2`` where the MILP's
per-output bounds do not combine tightly). The bounds are true bounds in every case."""


def check_norm(norm: Any) -> str:
    """``norm`` if it is one of :data:`NORMS`, else an :class:`~stronglth.errors.InvalidInputError`."""
    if not isinstance(norm, str) or norm not in NORMS:
        raise InvalidInputError(f"norm must be one of {NORMS} (the norm of the output difference), got {norm!r}")
    return norm


@dataclass(frozen=True)
class ExactResult:
    """True bounds ``lower <= sup_B ||f - g|| <= upper`` in the norm ``norm``; ``point`` lies on the
    unit sphere and its error is ``lower``.

    ``status``: one of :data:`STATUSES`. ``method``: ``"endpoints"``, ``"circle"`` or ``"milp"``.
    """

    lower: float
    upper: float
    point: np.ndarray
    status: str
    method: str
    seconds: float
    norm: str = "l2"

    @property
    def value(self) -> float | None:
        """The sup error when the bounds settle it (status ``exact`` or ``within_gap``): the upper
        bound, never below the truth; ``None`` when inconclusive."""
        return None if self.status == "inconclusive" else self.upper


def as_relu_network(net: Any) -> ReLUNetwork:
    """A dense :class:`ReLUNetwork` computing the same function as ``net``."""
    if isinstance(net, ReLUNetwork):
        return net
    if isinstance(net, Ticket):
        return net.compact()
    if type(net).__module__.startswith("torch"):
        return ReLUNetwork.from_torch(net)
    raise InvalidInputError(f"cannot verify a {type(net).__name__}: expected a Ticket, a ReLUNetwork or a torch nn.Sequential")


def network_pair(net: Any, target: Any) -> tuple[ReLUNetwork, ReLUNetwork]:
    f, g = as_relu_network(net), as_relu_network(target)
    if f.dims[0] != g.dims[0] or f.dims[-1] != g.dims[-1]:
        raise ShapeError(f"the networks map R^{f.dims[0]} -> R^{f.dims[-1]} and R^{g.dims[0]} -> R^{g.dims[-1]}")
    return f, g


def difference_norm(diff: np.ndarray, norm: str) -> np.ndarray:
    """``||diff||`` along the last axis: Euclidean (``"l2"``) or the largest absolute entry (``"linf"``).
    With one output both are ``|diff|``, computed as such (so the two norms agree bit for bit)."""
    if diff.shape[-1] == 1 or norm == "linf":
        return np.abs(diff).max(axis=-1)
    return np.sqrt(np.square(diff).sum(axis=-1))


def output_errors(f: ReLUNetwork, g: ReLUNetwork, x: np.ndarray, norm: str = "l2") -> np.ndarray:
    """The error ``||f(x) - g(x)||`` in ``norm`` (see :data:`NORMS`) at each row of ``x``."""
    errors = difference_norm(f.forward(x) - g.forward(x), norm)
    if not np.all(np.isfinite(errors)):
        raise InvalidInputError(
            "the error is not finite at some input (the networks' outputs overflow float64, or the l2 norm of their"
            " difference does): no bound can be reported; scale the weights down"
        )
    return errors
