"""What every verification method shares: networks as dense ReLU networks, the pair under test,
the error at a point, and the result type of the exact methods (docs/theory.md §6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglth.errors import InvalidInputError, ShapeError
from stronglth.relu import ReLUNetwork
from stronglth.ticket import Ticket

__all__ = ["ExactResult", "as_relu_network", "network_pair", "output_errors"]


@dataclass(frozen=True)
class ExactResult:
    """Bounds ``lower <= sup_B |f - g|_inf <= upper``; ``point`` attains ``lower`` (on the sphere).

    ``status``: ``"exact"`` (enumeration, lower = upper), ``"converged"`` (MILP, bounds within the
    requested relative gap) or ``"inconclusive"`` (time limit reached first).
    """

    lower: float
    upper: float
    point: np.ndarray
    status: str
    method: str
    seconds: float

    @property
    def value(self) -> float:
        """The sup error attained at ``point`` (a certain lower bound; equal to it when exact)."""
        return self.lower


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


def output_errors(f: ReLUNetwork, g: ReLUNetwork, x: np.ndarray) -> np.ndarray:
    """The error ``|f(x) - g(x)|_inf`` (max over output coordinates) at each row of ``x``."""
    return np.abs(f.forward(x) - g.forward(x)).max(axis=-1)
