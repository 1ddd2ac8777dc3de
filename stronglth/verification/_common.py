"""What every verification method shares: networks as dense ReLU networks, the pair under test,
the error at a point, and the result type of the exact methods (docs/theory.md §6).

A network's hidden activation is the ReLU or a leaky ReLU ``s_a(t) = max(t, a t)``, ``0 < a < 1``
(``negative_slope``; docs/theory.md §14.6), and each network of a pair is evaluated with its own.
The methods that only evaluate the networks (sampled, adversarial, on data; the enumerations of
:mod:`~stronglth.verification.exact`) read the leaky networks as they are; the methods that encode
ReLU pieces (the MILP, the differential bound, branch-and-bound) receive plain ReLU networks
computing the same functions (:func:`relu_forms`, by ``s_a(z) = s(z) - a s(-z)``), never a leaky
network read as a ReLU one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglth.errors import InvalidInputError, ShapeError
from stronglth.relu import ReLUNetwork, split_units
from stronglth.ticket import Ticket

__all__ = [
    "DOMAINS",
    "NORMS",
    "STATUSES",
    "ExactResult",
    "check_domain",
    "check_norm",
    "has_biases",
    "is_homogeneous",
    "is_leaky",
    "as_relu_network",
    "layer_biases",
    "network_pair",
    "relu_forms",
    "relu_pair",
    "check_relu",
    "onto_domain",
    "without_output_scale",
    "difference_norm",
    "output_errors",
]

NORMS = ("l2", "linf")
"""The norms of the output difference an error can be measured in (docs/theory.md §6): ``"l2"``, the
Euclidean norm the certified bound controls (the default everywhere), or ``"linf"``, the largest
absolute output coordinate, never larger (a lower bound of the ``l2`` error)."""

DOMAINS = ("ball", "box")
"""The input domains a sup error is taken over (docs/theory.md §6): ``"ball"``, the unit ``l2`` ball
(the package's domain everywhere, the default), or ``"box"``, the ``l_inf`` box ``[-1, 1]^d``."""

STATUSES = ("exact", "within_gap", "inconclusive")
"""``exact``: the bounds agree to floating point (enumeration); ``within_gap``: ``upper <= (1 + rel_gap)
lower``; ``inconclusive``: they do not meet (time limit, or several outputs in ``l2`` where the MILP's
per-output bounds do not combine tightly). The bounds are true bounds in every case."""


def check_norm(norm: Any) -> str:
    """``norm`` if it is one of :data:`NORMS`, else an :class:`~stronglth.errors.InvalidInputError`."""
    if not isinstance(norm, str) or norm not in NORMS:
        raise InvalidInputError(f"norm must be one of {NORMS} (the norm of the output difference), got {norm!r}")
    return norm


def check_domain(domain: Any) -> str:
    """``domain`` if it is one of :data:`DOMAINS`, else an :class:`~stronglth.errors.InvalidInputError`."""
    if not isinstance(domain, str) or domain not in DOMAINS:
        raise InvalidInputError(f"domain must be one of {DOMAINS} (the unit l2 ball, or the box [-1, 1]^d), got {domain!r}")
    return domain


def has_biases(net: Any) -> bool:
    """Whether the network has a non-zero bias anywhere (its ``has_biases``; bias-free networks
    have none)."""
    return bool(getattr(net, "has_biases", False))


def is_homogeneous(*networks: Any) -> bool:
    """Whether every network is bias-free, hence positively homogeneous (docs/theory.md §1.5): then
    the error ``f - g`` is too, and its sup over the ball (the box) is attained on the sphere (the
    box's surface). A positive output scale keeps homogeneity; a bias breaks it. The activation does
    not matter: the leaky ReLU is positively homogeneous too (``s_a(u t) = u s_a(t)`` for ``u > 0``,
    docs/theory.md §14.6)."""
    return not any(has_biases(net) for net in networks)


def is_leaky(*networks: Any) -> bool:
    """Whether some network has a leaky hidden activation (a non-zero ``negative_slope``)."""
    return any(float(getattr(net, "negative_slope", 0.0)) != 0.0 for net in networks)


@dataclass(frozen=True)
class ExactResult:
    """True bounds ``lower <= sup ||f - g|| <= upper`` over the domain asked for (the unit ball by
    default, or the box ``[-1, 1]^d``) in the norm ``norm``; ``point`` lies in the domain (on its
    surface for bias-free networks) and its error is ``lower``.

    ``status``: one of :data:`STATUSES`. ``method``: ``"endpoints"``, ``"breakpoints"`` (``d = 1``,
    networks with biases), ``"circle"``, ``"milp"``, ``"bab"`` or ``"bounds"``.
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
    """A dense :class:`ReLUNetwork` computing the same function as ``net`` (with ``net``'s hidden
    activation: a leaky network stays leaky, its ``negative_slope`` kept; a ticket's is G's)."""
    if isinstance(net, ReLUNetwork):
        return net
    if isinstance(net, Ticket):
        return net.compact()
    if type(net).__module__.startswith("torch"):
        return ReLUNetwork.from_torch(net)
    raise InvalidInputError(f"cannot verify a {type(net).__name__}: expected a Ticket, a ReLUNetwork or a torch nn.Sequential")


def layer_biases(net: ReLUNetwork) -> tuple[np.ndarray | None, ...]:
    """Each layer's bias vector, ``None`` where the layer has none (every layer of a bias-free network)."""
    if not has_biases(net):
        return (None,) * net.depth
    return tuple(b if given else None for b, given in zip(net.biases, net.bias_layers, strict=True))


def without_output_scale(net: ReLUNetwork) -> ReLUNetwork:
    """``net`` with its output scale ``c`` (docs/theory.md §12) folded into the last layer, ``c W_l`` and
    ``c b_l``: the function ``c (W_l h + b_l)`` up to one rounding per entry (relative ``2^-53``), so
    that every method reads weights and biases alone. ``net`` itself when ``c = 1``. The hidden
    activation (``negative_slope``) is kept."""
    scale = float(getattr(net, "output_scale", 1.0))
    if scale == 1.0:
        return net
    weights = [*net.weights[:-1], net.weights[-1] * scale]
    biases = list(layer_biases(net))
    if biases[-1] is not None:
        biases[-1] = biases[-1] * scale
    return ReLUNetwork(
        weights, biases if any(b is not None for b in biases) else None, negative_slope=float(getattr(net, "negative_slope", 0.0))
    )


def network_pair(net: Any, target: Any) -> tuple[ReLUNetwork, ReLUNetwork]:
    """The two networks as dense ReLU networks of the same input and output dimensions, output scales
    folded into their last layers (:func:`without_output_scale`), each with its own hidden activation
    (a leaky one stays leaky: for the methods that evaluate, not those that encode ReLU pieces,
    which take :func:`relu_pair`)."""
    f, g = without_output_scale(as_relu_network(net)), without_output_scale(as_relu_network(target))
    if f.dims[0] != g.dims[0] or f.dims[-1] != g.dims[-1]:
        raise ShapeError(f"the networks map R^{f.dims[0]} -> R^{f.dims[-1]} and R^{g.dims[0]} -> R^{g.dims[-1]}")
    return f, g


def relu_forms(f: ReLUNetwork, g: ReLUNetwork) -> tuple[ReLUNetwork, ReLUNetwork]:
    """The pair as plain ReLU networks (``negative_slope = 0``), for the methods that encode ReLU pieces.

    A leaky network ``s_a`` becomes :meth:`~stronglth.ReLUNetwork.relu_equivalent`: by
    ``s_a(z) = s(z) - a s(-z)`` (docs/theory.md §14.6) each hidden unit becomes two ReLU units reading
    ``z`` and ``-z``, the next layer reads them with ``W`` and ``-a W``. The function is the same up to
    one rounding of each product ``a W`` (relative ``2^-53``), within the rounding every bound of the
    package already states (as for an output scale folded into the last layer). When only one of the
    two is leaky, the other is laid out the same way (:func:`~stronglth.relu.split_units`, exactly), so
    that the layers of the two keep equal shapes and the differential bound can pair them. A pair of
    ReLU networks is returned as it is (the same objects: every ReLU result stays bit for bit)."""
    if not is_leaky(f, g):
        return f, g
    return split_units(f), split_units(g)


def relu_pair(net: Any, target: Any) -> tuple[ReLUNetwork, ReLUNetwork]:
    """:func:`network_pair`, then :func:`relu_forms`: the pair as plain ReLU networks, output scales folded."""
    return relu_forms(*network_pair(net, target))


def check_relu(net: Any, where: str) -> None:
    """Refuse a leaky network where ReLU pieces are encoded (:class:`~stronglth.errors.InvalidInputError`
    naming ``where``): such code must receive :func:`relu_forms`, never read ``s_a`` as the ReLU."""
    if is_leaky(net):
        raise InvalidInputError(
            f"{where} encodes ReLU units, and this network has a leaky ReLU (negative_slope={net.negative_slope!r}); pass its"
            " net.relu_equivalent() (docs/theory.md §14.6), as the verification methods do"
        )


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


def onto_domain(x: np.ndarray, domain: str, homogeneous: bool) -> np.ndarray:
    """The rows of ``x`` put on ``domain``: for a homogeneous pair onto its surface (``x / ||x||_2``,
    ``x / ||x||_inf``; the error is multiplied by the same factor, so at least kept for points of the
    domain), else projected onto it (``x / max(1, ||x||_2)``, ``clip(x, -1, 1)``). Zero rows stay zero."""
    if domain == "box" and not homogeneous:
        return np.clip(x, -1.0, 1.0)
    scale = np.linalg.norm(x, axis=1) if domain == "ball" else np.abs(x).max(axis=1)
    scale = np.where(scale > 0, scale, 1.0) if homogeneous else np.maximum(scale, 1.0)
    return x / scale[:, None]
