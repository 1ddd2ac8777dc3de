"""Hypothesis strategies and assertions for testing approximation lemmas, yours and ours.

What ``hypothesis.extra.numpy`` is for array code, this module is for strong-lottery-ticket
code: strategies that draw admissible targets, random networks, constructed tickets and gadget
blocks, and shrink to small, readable examples (small dimensions, seed 0); and assertions whose
failure messages say what went wrong and where. The package's own tests use exactly these.

For lemmas that hold *with high probability over G* (docs/guide.md, the section so named): i.i.d. blocks
of G drawn by seed (:func:`random_blocks`, :func:`random_block`), an exact binomial test of a rate
(:func:`assert_rate_at_most`) and the exact covering radius of subset sums (:func:`covering_radius`).

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

from stronglth import _validate
from stronglth._extras import missing_extra

try:
    from hypothesis import note
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("hypothesis", "testing", "stronglth.testing") from None

from stronglth.constructions import construct
from stronglth.errors import InvalidInputError, TicketAuditError, TooLargeError
from stronglth.experiments.toolkit import clopper_pearson
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
    "BLOCK_SHAPES",
    "random_block",
    "random_blocks",
    "assert_true_subnetwork",
    "assert_sup_error_at_most",
    "assert_homogeneous",
    "assert_rate_at_most",
    "MAX_COVERING_VALUES",
    "covering_radius",
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


BLOCK_SHAPES = ("gadget", "values", "products")
"""What :func:`random_block` returns: ``"gadget"`` the pair ``(u, v)`` as :func:`gadget_blocks` gives,
``"values"`` the ``k`` values ``u`` alone (i.i.d. ``U[-1, 1]``, Lueker's subset-sum setting), ``"products"``
the ``k`` products ``v_h u_h`` (density ``(1/2) ln(1/|z|)``, docs/theory.md §4.1)."""


def random_block(k: int, *, seed: int, shape: str = "gadget", distribution: str = "uniform") -> Any:
    """Block 0 of layer 1 of G for a ``1 x 1`` target with block size ``k``: ``G = RandomNetwork([(k, 1),
    (1, k)], seed=seed)``, ``u`` its column 0 of ``M_1`` and ``v`` its row 0 of ``M_2``, i.i.d. ``U[-1, 1]``
    (the lines of docs/theory.md §7, which is what ``RandomNetwork.for_target(T, [k], seed=seed)`` reads).
    ``shape`` is one of :data:`BLOCK_SHAPES`; float64 arrays of ``k`` values, a function of ``(k, seed)``.
    ``distribution`` (a spec of :mod:`stronglth.distributions`) replaces ``U[-1, 1]`` in both matrices.
    """
    k = _validate.positive_int(k, "k")
    shape = _validate.choice(shape, "shape", BLOCK_SHAPES)
    network = RandomNetwork([(k, 1), (1, k)], seed=seed, distributions=[distribution] * 2)
    u = network.segment(1, 0, 0, k)
    if shape == "values":
        return u
    v = network.segment(2, 0, 0, k)
    return (u, v) if shape == "gadget" else v * u


def random_blocks(k: int | st.SearchStrategy, *, shape: str = "gadget", distribution: str = "uniform") -> st.SearchStrategy:
    """Blocks of ``k`` i.i.d. units of G (:func:`random_block`), one per Hypothesis-drawn seed: unlike
    :func:`gadget_blocks` (adversarial floats), every example is a genuine sample of G's distribution.

    ``k`` is an int or a strategy; ``shape``, ``distribution`` as there; the seed is drawn from
    :data:`seeds`. Each example records ``random_block(k, seed=..., shape=...)`` with
    ``hypothesis.note``, so a falsifying example names the seed that reproduces it.

    Shrinking is harmless: Hypothesis shrinks ``k`` and the *seed*, never the values, so a shrunk
    counterexample is still a block of G exactly as ``RandomNetwork`` generates it (of another seed),
    never a tuned float that G draws with probability 0. Use it for properties that hold for *every*
    block (an inequality, an identity). Hypothesis' seeds are not an i.i.d. sample (it favours small and
    repeated ones, and stops at the first failure), so a rate "fails in at most 1% of blocks" is
    checked with :func:`assert_rate_at_most` over a fixed range of seeds instead.
    """
    random_block(1, seed=0, shape=shape, distribution=distribution)  # refuses a bad shape or distribution now
    size_strategy = _as_strategy(k, st.integers(1, MAX_COVERING_VALUES))

    @st.composite
    def build(draw):
        size, drawn = draw(size_strategy), draw(seeds)
        note(f"random_blocks: random_block({size}, seed={drawn}, shape={shape!r}, distribution={distribution!r})")
        return random_block(size, seed=drawn, shape=shape, distribution=distribution)

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


def assert_rate_at_most(trials: Any, bound: float, *, confidence: float = 0.99, seeds: int | Sequence[int] | None = None) -> None:
    """The rate of an event (a lemma's failure, say) is at most ``bound``, by an exact one-sided binomial test.

    ``trials`` is an iterable of booleans (``True``: the event occurred in that trial), or a callable
    ``seed -> bool`` with ``seeds`` (an int ``n`` for the seeds ``0 .. n-1``, or the seeds themselves).
    With ``x`` events in ``n`` trials the null hypothesis H0 "rate <= bound" is rejected, and the
    assertion fails, iff ``P(Binomial(n, bound) >= x) < 1 - confidence``: iff the one-sided
    Clopper-Pearson (1934) lower bound at ``confidence`` (the lower end of the two-sided ``2 confidence - 1``
    interval, :func:`stronglth.experiments.toolkit.clopper_pearson`) exceeds ``bound``. For a true bound and
    independent trials it fails with probability at most ``1 - confidence``; with fixed seeds it is
    deterministic. A pass is no proof: the data do not refute the bound, that is all. The message gives
    the observed rate, the two-sided ``confidence`` Clopper-Pearson interval, the p-value and the
    first trial (seed) where the event occurred.
    """
    from scipy import stats

    bound = _validate.real_number(bound, "bound")
    if not 0.0 <= bound <= 1.0:
        raise InvalidInputError(f"bound is a rate: it must lie in [0, 1], got bound={bound!r}")
    confidence = _validate.probability(confidence, "confidence")
    if confidence <= 0.5:
        raise InvalidInputError(f"a one-sided test needs confidence in (0.5, 1), got confidence={confidence!r}")
    if callable(trials) == (seeds is None):
        raise InvalidInputError("pass either a callable seed -> bool with seeds=, or an iterable of booleans without seeds=")
    if callable(trials):
        seed_list = (
            range(_validate.positive_int(seeds, "seeds"))
            if isinstance(seeds, (int, np.integer))
            else list(seeds if seeds is not None else ())
        )
        labelled: Any = ((f"seed {s}", trials(_validate.seed(s, "each of seeds"))) for s in seed_list)
    else:
        labelled = ((f"trial {i}", outcome) for i, outcome in enumerate(trials))
    n, events, first = 0, 0, None
    for label, outcome in labelled:
        if not isinstance(outcome, (bool, np.bool_)):
            raise InvalidInputError(f"{label} gave {outcome!r} ({type(outcome).__name__}), not a bool (True: the event occurred)")
        n, events = n + 1, events + bool(outcome)
        first = label if first is None and outcome else first
    if n == 0:
        raise InvalidInputError("no trials: a rate needs at least one")
    lower, _ = clopper_pearson(events, n, level=2 * confidence - 1)
    if lower > bound:
        low, high = clopper_pearson(events, n, level=confidence)
        raise AssertionError(
            f"observed rate {events / n:.6g} ({events} of {n} trials) refutes H0 rate <= {bound:.6g} at confidence"
            f" {confidence:g}: one-sided Clopper-Pearson lower bound {lower:.6g} > {bound:.6g}, p-value"
            f" {float(stats.binom.sf(events - 1, n, bound)):.3g}; two-sided {confidence:g} Clopper-Pearson interval"
            f" [{low:.6g}, {high:.6g}]; first with the event: {first}"
        )


MAX_COVERING_VALUES = 20
""":func:`covering_radius` enumerates all ``2^k`` subset sums: at most this many values (2^20 sums)."""


def covering_radius(values: Any, interval: tuple[float, float] = (-0.5, 0.5)) -> float:
    """``sup_{z in [a, b]} min_S |z - sum_{h in S} values_h|`` over all subsets ``S`` (the empty sum 0 included):
    how well the subset sums cover ``[a, b]``, as in the subset-sum lemma of Lueker (1998) that Pensia et
    al. (2020) use (docs/theory.md §5). Exact for the float64 subset sums, each accumulated in index order
    from 0.0 as the solver reports its errors (docs/theory.md §5.1): the sup is attained at ``a``, at ``b``
    or at the midpoint of two consecutive sums inside ``[a, b]``, where it is half their gap (one
    rounding). At most :data:`MAX_COVERING_VALUES` values; ``a < b`` finite.
    """
    x = _validate.float_array(values, "values")
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise InvalidInputError(f"values must be a 1-D array of finite numbers, got shape {x.shape}")
    if x.size > MAX_COVERING_VALUES:
        raise TooLargeError(
            f"covering_radius enumerates all 2^k subset sums; k = {x.size} values is above MAX_COVERING_VALUES ="
            f" {MAX_COVERING_VALUES} (for single targets use stronglth.constructions.subsetsum.solver.solve)"
        )
    ends = _validate.float_array(interval, "interval")
    if ends.shape != (2,) or not np.all(np.isfinite(ends)) or not ends[0] < ends[1]:
        raise InvalidInputError(f"interval must be a pair (a, b) of finite numbers with a < b, got {interval!r}")
    sums = np.zeros(1)
    for value in x:
        sums = np.concatenate([sums, sums + value])
    s = np.unique(sums)
    at_ends = float(np.abs(s[None, :] - ends[:, None]).min(axis=1).max())
    midpoints = (s[:-1] + s[1:]) / 2
    inside = (midpoints >= ends[0]) & (midpoints <= ends[1])
    return max(at_ends, float(np.max(s[1:] - s[:-1], where=inside, initial=0.0)) / 2)
