"""Hypothesis strategies and assertions for testing approximation lemmas, yours and ours.

What ``hypothesis.extra.numpy`` is for array code, this module is for strong-lottery-ticket
code: strategies that draw admissible targets, random networks, constructed tickets and gadget
blocks, and shrink to small, readable examples (small dimensions, seed 0); and assertions whose
failure messages say what went wrong and where. The package's own tests use exactly these.

    from hypothesis import given
    from stronglth.testing import admissible_targets, assert_sup_error_at_most

    @given(admissible_targets(d=2, widths=[3, 1]))
    def test_my_lemma(target):
        ticket = my_construction(target)
        assert_sup_error_at_most(ticket, target, bound=0.1, method="exact")

Needs ``hypothesis`` (``pip install 'stronglth[testing]'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from stronglth._extras import missing_extra

try:
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("hypothesis", "testing", "stronglth.testing") from None

from stronglth.constructions import construct
from stronglth.errors import InvalidInputError, TicketAuditError
from stronglth.random_network import RandomNetwork
from stronglth.target import TARGET_FAMILIES, TargetNetwork, random_target
from stronglth.ticket import Ticket
from stronglth.verification import adversarial_error, as_relu_network, exact_error, sampled_error
from stronglth.verification import unit_sphere_points as sphere_points
from stronglth.verification._common import check_norm

__all__ = [
    "seeds",
    "admissible_targets",
    "unit_sphere_points",
    "unit_ball_points",
    "random_networks",
    "tickets",
    "gadget_blocks",
    "assert_true_subnetwork",
    "assert_sup_error_at_most",
    "assert_homogeneous",
]

seeds = st.integers(min_value=0, max_value=2**32 - 1)
"""Seeds for ``seed=`` arguments; shrink towards 0."""


def _as_strategy(value: Any, default: st.SearchStrategy) -> st.SearchStrategy:
    if value is None:
        return default
    if isinstance(value, st.SearchStrategy):
        return value
    return st.just(value)


# -- strategies -------------------------------------------------------------------------------


def admissible_targets(
    d: int | st.SearchStrategy | None = None,
    widths: Sequence[int] | st.SearchStrategy | None = None,
    families: Sequence[str] | None = None,
    *,
    max_d: int = 4,
    max_width: int = 4,
    max_depth: int = 3,
) -> st.SearchStrategy[TargetNetwork]:
    """Targets satisfying Malach et al.'s assumptions (docs/theory.md §1), from the families of
    :func:`stronglth.random_target`: ``"gaussian"``, and the adversarial ``"max_norm"`` (entries at
    the max-norm bound where the spectral norm allows), ``"rank1"`` (spectral norm exactly 1) and
    ``"sparse"``. ``d`` and ``widths`` may be fixed values or strategies; by default they are drawn
    up to ``max_d``, ``max_width`` and ``max_depth`` layers, shrinking to one small layer.
    """
    family_names = sorted(TARGET_FAMILIES) if families is None else list(families)
    unknown = [f for f in family_names if f not in TARGET_FAMILIES]
    if unknown or not family_names:
        raise InvalidInputError(f"unknown target families {unknown}; choose from {sorted(TARGET_FAMILIES)}")
    d_strategy = _as_strategy(d, st.integers(1, max_d))
    widths_strategy = _as_strategy(widths, st.lists(st.integers(1, max_width), min_size=1, max_size=max_depth))
    return st.builds(
        lambda d_, widths_, family, seed: random_target(d_, list(widths_), seed=seed, family=family),
        d_strategy,
        widths_strategy,
        st.sampled_from(family_names),
        seeds,
    )


def unit_sphere_points(d: int) -> st.SearchStrategy[np.ndarray]:
    """Points of the unit sphere of ``R^d`` (float64 arrays of shape ``(d,)``); shrink towards
    ``e_1``. By homogeneity (docs/theory.md §1) the sup error over the ball is attained on the sphere."""
    coordinate = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False)
    return (
        st.lists(coordinate, min_size=d, max_size=d)
        .map(lambda c: np.array(c, dtype=np.float64))
        .filter(lambda x: np.linalg.norm(x) > 1e-6)
        .map(lambda x: x / np.linalg.norm(x))
    )


def unit_ball_points(d: int) -> st.SearchStrategy[np.ndarray]:
    """Points of the closed unit ball of ``R^d``: a sphere point times a radius in ``[0, 1]``."""
    return st.builds(lambda x, r: x * r, unit_sphere_points(d), st.floats(0.0, 1.0))


def random_networks(*, max_depth: int = 3, max_width: int = 12) -> st.SearchStrategy[RandomNetwork]:
    """Small random networks G of depth ``2 .. 2 max_depth`` with chaining shapes and any seed."""

    @st.composite
    def build(draw):
        n_matrices = 2 * draw(st.integers(1, max_depth))
        dims = draw(st.lists(st.integers(1, max_width), min_size=n_matrices + 1, max_size=n_matrices + 1))
        return RandomNetwork([(dims[t + 1], dims[t]) for t in range(n_matrices)], seed=draw(seeds))

    return build()


def tickets(
    method: str = "malach",
    *,
    targets: st.SearchStrategy[TargetNetwork] | None = None,
    eps: float | st.SearchStrategy | None = None,
    delta: float = 1e-9,
    **construct_options: Any,
) -> st.SearchStrategy[Ticket]:
    """Constructed tickets (each carries its target as ``ticket.target``).

    ``delta`` is tiny by default so that a seed on which the construction fails (probability
    ``delta`` by the theorem) is never met; ``construct_options`` go to :func:`stronglth.constructions`.
    """
    target_strategy = admissible_targets(max_d=3, max_width=3, max_depth=2) if targets is None else targets
    return st.builds(
        lambda target, eps_, seed: construct(target, method=method, eps=eps_, delta=delta, seed=seed, **construct_options),
        target_strategy,
        _as_strategy(eps, st.floats(0.1, 1.0)),
        seeds,
    )


def gadget_blocks(k: int | st.SearchStrategy | None = None) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """A block of ``k`` candidate units for the weight gadget (docs/theory.md §2): first-layer weights
    ``u`` and second-layer weights ``v``, each in ``[-1, 1]`` as G's are."""
    weight = st.floats(-1.0, 1.0, allow_nan=False)

    @st.composite
    def build(draw):
        size = draw(_as_strategy(k, st.integers(1, 32)))
        u = draw(st.lists(weight, min_size=size, max_size=size))
        v = draw(st.lists(weight, min_size=size, max_size=size))
        return np.array(u, dtype=np.float64), np.array(v, dtype=np.float64)

    return build()


# -- assertions -------------------------------------------------------------------------------


def assert_true_subnetwork(ticket: Ticket) -> None:
    """Every kept weight of ``ticket`` is G's own value, bit for bit (the ticket is a mask of G)."""
    if not isinstance(ticket, Ticket):
        raise AssertionError(f"expected a stronglth.Ticket, got {type(ticket).__name__}")
    try:
        ticket.audit()
    except TicketAuditError as exc:
        raise AssertionError(f"not a true subnetwork of its random network: {exc}") from None


def assert_sup_error_at_most(
    net: Any,
    target: Any,
    bound: float,
    *,
    method: str = "adversarial",
    norm: str = "l2",
    rel_tol: float = 1e-9,
    **options: Any,
) -> None:
    """``sup_{x in B} ||net(x) - target(x)|| <= bound`` in ``norm`` (``"l2"``, default, or ``"linf"``)
    as measured by ``method``, up to a relative ``rel_tol`` (see :mod:`stronglth.verification`).

    - ``"sampled"``, ``"adversarial"``: lower bounds; a failure is a real counterexample (the message
      names the error, the point and both outputs), a pass is evidence, not proof;
    - ``"exact"``: passes only when the exact method's *upper* bound is at most ``bound``, so a pass
      is a proof; it fails when the upper bound is larger, including when the result is
      inconclusive (the message gives both bounds, the status and the point of the lower bound).
    """
    norm = check_norm(norm)
    f, g = as_relu_network(net), as_relu_network(target)
    if method == "exact":
        result = exact_error(net, target, norm=norm, **options)
        if result.upper > bound * (1 + rel_tol):
            with np.printoptions(precision=6, suppress=True):
                raise AssertionError(
                    f"the exact method ({result.method}, status {result.status}) cannot show sup {norm} error <= {bound:.6g}:"
                    f" {result.lower:.6g} <= sup <= {result.upper:.6g}; the lower bound is attained at x = {result.point}:"
                    f" net(x) = {f.forward(result.point)}, target(x) = {g.forward(result.point)}"
                )
        return
    if method == "sampled":
        error, point = sampled_error(f, g, norm=norm, **options)
    elif method == "adversarial":
        error, point = adversarial_error(f, g, norm=norm, **options)
    else:
        raise InvalidInputError(f"method must be 'sampled', 'adversarial' or 'exact', got {method!r}")
    if error > bound * (1 + rel_tol):
        with np.printoptions(precision=6, suppress=True):
            raise AssertionError(
                f"sup {norm} error {error:.6g} exceeds the bound {bound:.6g} (method {method!r}) at x = {np.asarray(point)}:"
                f" net(x) = {f.forward(point)}, target(x) = {g.forward(point)}"
            )


def assert_homogeneous(
    net: Any, *, points: np.ndarray | None = None, scales: Sequence[float] = (0.0, 0.5, 2.0, 10.0), rtol: float = 1e-10
) -> None:
    """``net(c x) = c net(x)`` for ``c >= 0`` (bias-free ReLU networks are positively homogeneous,
    docs/theory.md §1), at ``points`` (default: 64 fixed sphere points) and each of ``scales``.

    ``net`` is anything with a ``forward(X)`` method or a callable on arrays ``(N, d)``; ``points`` is
    needed when ``d`` cannot be read from ``net`` (``net.dims`` or a ticket's network).
    """
    forward = net.forward if hasattr(net, "forward") else net
    if points is None:
        dims = getattr(getattr(net, "network", net), "dims", None)
        if dims is None:
            raise InvalidInputError("pass points=: the input dimension of this network is unknown")
        points = sphere_points(dims[0], 64, seed=0)
    x = np.atleast_2d(np.asarray(points, dtype=np.float64))
    base = np.asarray(forward(x))
    scale_of_outputs = max(1.0, float(np.abs(base).max()))
    for c in scales:
        if c < 0:
            raise InvalidInputError(f"homogeneity is for scales c >= 0, got {c}")
        gap = np.abs(np.asarray(forward(c * x)) - c * base)
        if gap.max() > rtol * max(1.0, c) * scale_of_outputs:
            i = int(np.argmax(gap.reshape(gap.shape[0], -1).max(axis=1)))
            raise AssertionError(
                f"not positively homogeneous: net({c:g} x) differs from {c:g} net(x) by {gap.max():.3g} at x = {x[i]}"
                " (a bias, or an activation other than ReLU?)"
            )
