"""Sup-norm error over the unit ball, four ways that nest: sampled <= adversarial <= exact <= certified.

Every network here is a bias-free ReLU network, hence positively homogeneous (REFERENCE §1): the
sup of the error over the ball is attained on the unit sphere.

- sampled: ``n`` points uniform on the sphere (a lower bound);
- adversarial: projected gradient ascent on the sphere from the best sampled points (a better
  lower bound, with the point found);
- exact: endpoints (``d = 1``), enumeration of activation arcs (``d = 2``), or a MILP with lower
  and upper bounds (small networks, any ``d``), see :mod:`stronglth.exact`;
- certified: the a-posteriori bound ``E_l`` of REFERENCE §3, recomputed from the ticket's own kept
  weights (tickets of the constructions: each first-layer unit of a block reads one coordinate).

Networks may be :class:`~stronglth.Ticket` (evaluated through its compacted form), any
:class:`~stronglth.ReLUNetwork` (targets included), or a torch ``nn.Sequential`` of bias-free
``Linear`` and ``ReLU``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from stronglth import _validate, bounds
from stronglth.errors import InvalidInputError, ShapeError, StrongLTHError
from stronglth.exact import ExactResult, exact_error_1d, exact_error_circle, exact_error_milp
from stronglth.relu import ReLUNetwork

__all__ = [
    "VerificationReport",
    "VerificationInconclusive",
    "verify",
    "sup_error",
    "unit_sphere_points",
    "sampled_error",
    "adversarial_error",
    "adversarial_search",
    "exact_error",
    "certified_bound",
    "gadget_matrices",
    "gadget_network",
    "METHODS",
]

METHODS = ("sampled", "adversarial", "exact", "certified")


class VerificationInconclusive(StrongLTHError):
    """The exact method reached its time limit before its bounds met."""


def as_relu_network(net: Any) -> ReLUNetwork:
    """A dense :class:`ReLUNetwork` computing the same function as ``net``."""
    from stronglth.ticket import Ticket

    if isinstance(net, ReLUNetwork):
        return net
    if isinstance(net, Ticket):
        return net.compact()
    if type(net).__module__.startswith("torch"):
        return ReLUNetwork.from_torch(net)
    raise InvalidInputError(f"cannot verify a {type(net).__name__}: expected a Ticket, a ReLUNetwork or a torch nn.Sequential")


def _pair(net: Any, target: Any) -> tuple[ReLUNetwork, ReLUNetwork]:
    f, g = as_relu_network(net), as_relu_network(target)
    if f.dims[0] != g.dims[0] or f.dims[-1] != g.dims[-1]:
        raise ShapeError(f"the networks map R^{f.dims[0]} -> R^{f.dims[-1]} and R^{g.dims[0]} -> R^{g.dims[-1]}")
    return f, g


def unit_sphere_points(d: int, n: int, *, seed: int) -> np.ndarray:
    """``n`` points uniform on the unit sphere of ``R^d`` (normalised Gaussians), float64 ``(n, d)``."""
    d = _validate.positive_int(d, "d")
    n = _validate.positive_int(n, "n")
    x = np.random.default_rng(_validate.seed(seed)).standard_normal((n, d))
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # probability zero; keeps the function total
    return x / norms


def _errors(f: ReLUNetwork, g: ReLUNetwork, x: np.ndarray) -> np.ndarray:
    return np.abs(f.forward(x) - g.forward(x)).max(axis=1)


def sampled_error(net: Any, target: Any, *, n: int = 100_000, seed: int = 0, batch: int = 65_536) -> tuple[float, np.ndarray]:
    """``max_x |net(x) - target(x)|_inf`` over ``n`` points uniform on the sphere, and the argmax.

    A lower bound on the sup error over the ball; evaluated in batches of ``batch`` points.
    """
    f, g = _pair(net, target)
    points = unit_sphere_points(f.dims[0], n, seed=seed)
    best, where = -1.0, points[0]
    for start in range(0, n, batch):
        gap = _errors(f, g, points[start:start + batch])
        i = int(np.argmax(gap))
        if gap[i] > best:
            best, where = float(gap[i]), points[start + i]
    return best, where


def _input_gradient(net: ReLUNetwork, x: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """``d net(x)[outputs[k]] / dx`` for each row ``x[k]`` (the local linear map of a ReLU net)."""
    masks = []
    h = x
    for w in net.weights[:-1]:
        z = h @ w.T
        masks.append(z > 0)
        h = np.maximum(z, 0.0)
    grad = net.weights[-1][outputs]
    for w, mask in zip(reversed(net.weights[:-1]), reversed(masks)):
        grad = (grad * mask) @ w
    return grad


def adversarial_error(
    net: Any, target: Any, *, n: int = 100_000, starts: int = 32, steps: int = 300, seed: int = 0
) -> tuple[float, np.ndarray]:
    """The best value and point of :func:`adversarial_search`."""
    value, point, _ = adversarial_search(net, target, n=n, starts=starts, steps=steps, seed=seed)
    return value, point


def adversarial_search(
    net: Any, target: Any, *, n: int = 100_000, starts: int = 32, steps: int = 300, seed: int = 0
) -> tuple[float, np.ndarray, np.ndarray]:
    """Multi-start projected gradient ascent of ``|net - target|_inf`` on the unit sphere.

    Returns the best value, its point and the final points of all starts (local maxima). Starts
    from the ``starts`` best of ``n`` sampled points; each step moves along the tangential
    part of the gradient of the worst output (by homogeneity the radial part is the value itself),
    projects back to the sphere, and adapts its step size per start (grow on success, halve on
    failure). Never worse than the sampled estimate, which it starts from.
    """
    f, g = _pair(net, target)
    best, _ = sampled_error(f, g, n=n, seed=seed)
    points = unit_sphere_points(f.dims[0], n, seed=seed)
    errors = _errors(f, g, points)
    order = np.argsort(errors)[::-1][: max(1, starts)]
    x, value = points[order], errors[order]
    step = np.full(x.shape[0], 0.05)
    for _ in range(steps):
        diff = f.forward(x) - g.forward(x)
        worst = np.argmax(np.abs(diff), axis=1)
        sign = np.sign(diff[np.arange(x.shape[0]), worst])
        grad = sign[:, None] * (_input_gradient(f, x, worst) - _input_gradient(g, x, worst))
        tangent = grad - np.sum(grad * x, axis=1, keepdims=True) * x
        norm = np.linalg.norm(tangent, axis=1, keepdims=True)
        norm[norm == 0] = 1.0
        trial = x + step[:, None] * tangent / norm
        trial /= np.linalg.norm(trial, axis=1, keepdims=True)
        trial_value = _errors(f, g, trial)
        better = trial_value > value
        x[better], value[better] = trial[better], trial_value[better]
        step = np.where(better, np.minimum(step * 1.5, 0.5), step * 0.5)
        if np.all(step < 1e-12):
            break
    i = int(np.argmax(value))
    if value[i] >= best:
        return float(value[i]), x[i], x
    best, where = sampled_error(f, g, n=n, seed=seed)
    return best, where, x


def _exact_pair(net: Any, target: Any) -> tuple[ReLUNetwork, ReLUNetwork]:
    """The pair the exact methods work on: a construction ticket against its own target in the
    shared gadget form (:func:`gadget_network`), anything else densely."""
    from stronglth.ticket import Ticket

    if isinstance(net, Ticket) and net.target is not None:
        g = as_relu_network(target)
        if g.dims == net.target.dims and all(np.array_equal(a, b) for a, b in zip(g.weights, net.target.weights)):
            pair = gadget_network(net)
            if pair is not None:
                return pair
    return _pair(net, target)


def exact_error(
    net: Any, target: Any, *, method: str = "auto", time_limit: float = 60.0, rel_gap: float = 0.01,
    lower_bound: float = 0.0, start_point: np.ndarray | None = None, seed_points: np.ndarray | None = None,
) -> ExactResult:
    """The sup error with certainty: ``"endpoints"`` (d = 1), ``"circle"`` (d = 2) or ``"milp"``
    (any d, small networks, bounds within ``rel_gap``); ``"auto"`` picks the first that applies."""
    f, g = _exact_pair(net, target)
    d = f.dims[0]
    if method == "auto":
        method = "endpoints" if d == 1 else "circle" if d == 2 else "milp"
    if method == "endpoints" and d == 1:
        return exact_error_1d(f, g)
    if method == "circle" and d == 2:
        return exact_error_circle(f, g)
    if method == "milp":
        return exact_error_milp(f, g, rel_gap=rel_gap, time_limit=time_limit, lower_bound=lower_bound, start_point=start_point,
                                seed_points=seed_points)
    raise InvalidInputError(f"exact method {method!r} does not apply to input dimension {d}; use 'auto', 'endpoints' (d=1), 'circle' (d=2) or 'milp'")


def gadget_matrices(ticket: Any) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """``(A_i, B_i)`` of every layer of a construction ticket (REFERENCE §2-3), from its kept weights.

    ``A[o, j] = sum v_oh u_h`` over kept units ``h`` with ``u_h > 0`` reading input ``j`` and
    ``B[o, j] = sum v_oh |u_h|`` over those with ``u_h < 0``, so that layer pair ``2i-1, 2i`` of the
    ticket computes ``A_i s(y) + B_i s(-y)`` exactly. ``None`` for tickets not of that shape (no
    target, depth not ``2l``, or a first-layer unit reading more than one coordinate).
    """
    from stronglth.ticket import Ticket

    if not isinstance(ticket, Ticket) or ticket.target is None or ticket.network.depth != 2 * ticket.target.depth:
        return None
    out = []
    for i, w in enumerate(ticket.target.weights, start=1):
        first, second = ticket.kept(2 * i - 1), ticket.kept(2 * i)
        if np.any(np.diff(first.rows) == 0):  # rows are sorted: a unit reads several coordinates
            return None
        unit_input = dict(zip(first.rows.tolist(), first.cols.tolist()))
        unit_weight = dict(zip(first.rows.tolist(), first.vals.tolist()))
        a, b = np.zeros_like(w), np.zeros_like(w)
        for o, h, v in zip(second.rows.tolist(), second.cols.tolist(), second.vals.tolist()):
            if h not in unit_input:
                continue  # a unit with no input weight outputs s(0) = 0
            u, j = unit_weight[h], unit_input[h]
            if u > 0:
                a[o, j] += v * u
            elif u < 0:
                b[o, j] += v * -u
        out.append((a, b))
    return out


def gadget_network(ticket: Any) -> tuple[ReLUNetwork, ReLUNetwork] | None:
    """The ticket and its target as networks of one architecture (the target's), exactly.

    By the gadget identity the ticket computes ``A_l s(... A_2 s(A_1 s(x) + B_1 s(-x)))`` (later
    layers read ``y >= 0``, where the ``B_i`` terms vanish), and the target ``W_l s(... W_2 s(W_1 s(x)
    - W_1 s(-x)))``: both are ReLU networks with the shared first layer ``[I; -I]``. The exact
    verifier uses this form: it is small, and layer by layer the two networks are close.
    """
    matrices = gadget_matrices(ticket)
    if matrices is None:
        return None
    d = ticket.target.d
    split = np.vstack((np.eye(d), -np.eye(d)))
    a1, b1 = matrices[0]
    ticket_weights = [split, np.hstack((a1, b1))] + [a for a, _ in matrices[1:]]
    w1 = ticket.target.weights[0]
    target_weights = [split, np.hstack((w1, -w1))] + list(ticket.target.weights[1:])
    return ReLUNetwork(ticket_weights), ReLUNetwork(target_weights)


def certified_bound(ticket: Any) -> float | None:
    """The a-posteriori bound ``E_l`` of REFERENCE §3, recomputed from the ticket's kept weights.

    With ``(A_i, B_i)`` from :func:`gadget_matrices`: ``D+ = A - W``, ``D- = B + W``;
    ``c_1 = ||[D+, D-]||_2`` and ``c_i = ||D+||_2`` for ``i >= 2`` (post-ReLU inputs are ``>= 0``);
    then ``E_i = s_i E_{i-1} + c_i (R_{i-1} + E_{i-1})``. ``None`` for tickets not of that shape.
    """
    matrices = gadget_matrices(ticket)
    if matrices is None:
        return None
    constants = []
    for i, ((a, b), w) in enumerate(zip(matrices, ticket.target.weights), start=1):
        d_plus, d_minus = a - w, b + w
        constants.append(bounds.layer_error_constant(d_plus, d_minus) if i == 1 else bounds.layer_error_constant(d_plus))
    return bounds.certified_error([n.spectral_norm for n in ticket.target.layer_norms()], constants)


@dataclass(frozen=True)
class VerificationReport:
    """The four measures of the sup error of a network against a target over the unit ball.

    ``exact`` is the error attained at ``exact_point`` and ``exact_upper`` the upper bound (equal
    when the method enumerates); both ``None`` unless requested. ``certified`` is ``None`` for
    networks that are not construction tickets.
    """

    sampled: float
    sampled_point: np.ndarray
    adversarial: float
    adversarial_point: np.ndarray
    exact: float | None
    exact_upper: float | None
    exact_point: np.ndarray | None
    exact_status: str | None
    certified: float | None

    @property
    def nested(self) -> bool:
        """``sampled <= adversarial <= exact <= exact_upper <= certified`` over the measures present
        (a relative slack of 1e-9 for rounding)."""
        chain = [self.sampled, self.adversarial, self.exact, self.exact_upper, self.certified]
        values = [v for v in chain if v is not None]
        return all(a <= b * (1 + 1e-9) + 1e-15 for a, b in zip(values, values[1:]))

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in asdict(self).items()} | {"nested": self.nested}


def verify(
    net: Any, target: Any = None, *, exact: bool = False, samples: int = 100_000, seed: int = 0,
    time_limit: float = 60.0, rel_gap: float = 0.01,
) -> VerificationReport:
    """Measure the sup error of ``net`` (a ticket, by default against its own target) four ways."""
    from stronglth.ticket import Ticket

    if target is None:
        if not isinstance(net, Ticket) or net.target is None:
            raise InvalidInputError("verify needs a target: pass one, or a ticket that carries its target")
        target = net.target
    f, g = _pair(net, target)
    sampled, sampled_point = sampled_error(f, g, n=samples, seed=seed)
    adversarial, adversarial_point, local_maxima = adversarial_search(f, g, n=samples, seed=seed)
    exact_result = None
    if exact:
        exact_result = exact_error(net, target, time_limit=time_limit, rel_gap=rel_gap, lower_bound=adversarial,
                                   start_point=adversarial_point, seed_points=local_maxima)
    return VerificationReport(
        sampled=sampled,
        sampled_point=sampled_point,
        adversarial=adversarial,
        adversarial_point=adversarial_point,
        exact=None if exact_result is None else exact_result.lower,
        exact_upper=None if exact_result is None else exact_result.upper,
        exact_point=None if exact_result is None else exact_result.point,
        exact_status=None if exact_result is None else exact_result.status,
        certified=certified_bound(net),
    )


def sup_error(net: Any, target: Any, *, method: str = "sampled", **options: Any) -> float:
    """One number: the sup error by ``method`` (one of :data:`METHODS`). ``"exact"`` returns the
    upper bound, and raises :class:`VerificationInconclusive` if the time limit came first;
    ``"certified"`` needs a construction ticket."""
    if method == "sampled":
        return sampled_error(net, target, **options)[0]
    if method == "adversarial":
        return adversarial_error(net, target, **options)[0]
    if method == "exact":
        result = exact_error(net, target, **options)
        if result.status == "inconclusive":
            raise VerificationInconclusive(
                f"exact sup error not settled within the time limit: between {result.lower:.6g} and {result.upper:.6g}"
            )
        return result.upper
    if method == "certified":
        value = certified_bound(net)
        if value is None:
            raise InvalidInputError("the certified bound applies to tickets of the constructions (with their target)")
        return value
    raise InvalidInputError(f"unknown method {method!r}; choose one of {METHODS}")
