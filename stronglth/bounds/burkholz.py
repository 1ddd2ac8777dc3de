"""A-priori width and depth of the depth ``l + 1`` construction (Burkholz, "Most activation functions
can win the lottery without excessive depth", NeurIPS 2022), with explicit constants (docs/theory.md §14,
derived here).

Burkholz's width statement rests on a random subset-sum lemma (Lueker 1998; Pensia et al. 2020) whose
constant is not explicit. Here it is replaced by a lemma proved in docs/theory.md §14.3 with every
constant stated (:func:`subset_sum_failure`): ``k`` i.i.d. values whose law has mass at least ``rho``
per unit length on ``[-2a, 2a]`` reach one fixed target ``z`` within ``eta`` except with probability

    P1 + P2 + P3,   P1 = exp(-(n1 p - s) + s ln(n1 p / s))  if n1 p > s  (coverage reaches 1/2 of [-a, a]),
                    P2 = (1/2) (1 - kappa/2)^n2 / (1 - x)         (then at least the fraction x),
                    P3 = (1 - q(x))^r                             (one of r fresh values lands),

``k = n1 + n2 + r``, ``kappa = 2 a rho``, ``p = kappa / 2``, ``s = log2(a / (2 eta))``. Two laws occur:
``"uniform"`` (a weight of G, ``U[-1, 1]``: ``a = 1/2``, ``rho = 1/2``) in the layers that read copies,
and ``"product"`` (one side of a first-layer unit, ``v u 1{u > 0}``: ``a = 1/(2e)``, ``rho = 1/4``).

The network (docs/theory.md §14.1): target ``dims = (n_0, ..., n_l)``, block sizes ``k_1 .. k_l``
(``k_i`` copies of every input coordinate of target layer ``i``); G has the ``l + 1`` matrices
``(n_0 k_1, n_0), (n_1 k_2, n_0 k_1), ..., (n_l, n_{l-1} k_l)`` (:func:`burkholz_dims`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from stronglth import _validate
from stronglth.errors import InvalidInputError

__all__ = [
    "LAWS",
    "SubsetSumLaw",
    "subset_sum_failure",
    "subset_sum_block_size",
    "burkholz_dims",
    "burkholz_parameter_count",
    "burkholz_event_counts",
    "burkholz_amplification",
    "burkholz_tolerances",
    "burkholz_theorem_block_sizes",
    "burkholz_failure_probability",
    "first_layer_max_weight",
]

LN2 = math.log(2.0)


@dataclass(frozen=True)
class SubsetSumLaw:
    """The constants of the subset-sum lemma for one law of the values (docs/theory.md §14.3): the
    window ``[-a, a]`` whose coverage is tracked and a lower bound ``rho`` on the law's mass per unit
    length on ``[-2a, 2a]``."""

    name: str
    a: float
    rho: float

    @property
    def kappa(self) -> float:
        """``2 a rho``: the expected relative growth of the covered fraction is at least ``kappa (1 - x)``."""
        return 2.0 * self.a * self.rho

    def landing(self, x: float, w_max: float) -> float:
        """``q(x)``: a lower bound on the chance that one fresh value ``X`` puts every target ``|z| <= w_max``
        into reach (``z - X`` in a covered set of fraction ``x`` of ``[-a, a]``): the law's mass on the
        least likely part of measure ``2 a x`` of the window ``z - [-a, a]``, at ``|z| = w_max`` (the
        worst target: the window's ``|t|`` grows stochastically with ``|z|``; docs/theory.md §14.3)."""
        covered, w = 2.0 * self.a * x, w_max
        if self.name == "uniform":  # density 1/2 on [-1, 1]: whatever of the window lies beyond 1 is lost
            return 0.5 * (covered - max(0.0, w + self.a - 1.0))
        top = w + self.a  # product: density ln(1/|t|)/4, decreasing in |t|; mass on [s, t] is (Phi(t) - Phi(s))/4
        if covered <= 2.0 * min(w, self.a):
            return 0.25 * (_phi(top) - _phi(top - covered))
        rest = covered - 2.0 * w  # w < a here: the window [w - a, w + a] covers [0, a - w] twice
        return 0.25 * (_phi(top) - _phi(self.a - w)) + 0.5 * (_phi(self.a - w) - _phi(self.a - w - rest / 2.0))


def _phi(t: float) -> float:
    """``P(|v u| <= t) = t - t ln t`` for ``v, u ~ U[0, 1]`` (docs/theory.md §4.1), clamped to ``[0, 1]``."""
    t = min(1.0, max(0.0, t))
    return 0.0 if t == 0.0 else t - t * math.log(t)


LAWS = {
    "uniform": SubsetSumLaw("uniform", 0.5, 0.5),
    "product": SubsetSumLaw("product", 1.0 / (2.0 * math.e), 0.25),
}
"""The two laws of the construction: G's weights ``U[-1, 1]`` and a first-layer side ``v u 1{u > 0}``
(defective density ``ln(1/|y|) / 4`` on ``[-1, 1]``, at least ``1/4`` on ``[-1/e, 1/e]``)."""


def _law(law: str) -> SubsetSumLaw:
    return LAWS[_validate.choice(law, "law", tuple(LAWS))]


def _phase_one(n1: int, law: SubsetSumLaw, eta: float) -> float:
    """``P1``: the covered fraction of ``[-a, a]`` is still below 1/2 after ``n1`` values (a Chernoff
    bound: each value doubles it "with probability" at least ``p = kappa / 2``, ``s`` doublings needed)."""
    s = math.log2(law.a / (2.0 * eta))  # log2(1 / (2 x_0)), x_0 = eta / a
    if s <= 0.0:
        return 0.0
    m = n1 * law.kappa / 2.0
    if m <= s:
        return 1.0
    return min(1.0, math.exp(-(m - s) + s * math.log(m / s)))


def subset_sum_failure(n1: int, n2: int, r: int, *, eta: float, w_max: float, law: str, x: float = 0.5) -> float:
    """The lemma of docs/theory.md §14.3: an upper bound on the probability that no subset of
    ``n1 + n2 + r`` i.i.d. values of ``law`` is within ``eta`` of a fixed target ``|z| <= w_max``.

    ``x`` (in ``[1/2, 1)``) is the covered fraction phase 2 aims at; with ``x = 1/2`` phase 2 is void
    (``n2`` must be 0). Capped at 1; 1 also when the law gives no landing bound for ``w_max``.
    """
    the_law = _law(law)
    eta = _validate.positive_float(eta, "eta")
    n1, n2, r = (_validate.non_negative_int(n, name) for n, name in ((n1, "n1"), (n2, "n2"), (r, "r")))
    if not 0.5 <= x < 1.0:
        raise InvalidInputError(f"x must lie in [1/2, 1), got {x!r}")
    if w_max <= eta:
        return 0.0  # the empty subset is within eta
    p1 = _phase_one(n1, the_law, eta)
    p2 = 0.0 if x == 0.5 else 0.5 * (1.0 - the_law.kappa / 2.0) ** n2 / (1.0 - x)
    q = the_law.landing(x, w_max)
    p3 = 1.0 if q <= 0.0 else (1.0 - min(q, 1.0)) ** r
    return min(1.0, p1 + p2 + p3)


_TARGETS = (0.5, 0.75, 0.875, 0.9375, 0.96875)
_SPLITS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _least_n1(law: SubsetSumLaw, eta: float, budget: float) -> int:
    """The least ``n1`` with ``P1 <= budget``: ``m = n1 p`` solves ``m - s - s ln(m / s) = ln(1/budget)``
    (increasing in ``m > s``; bisection), then the integer is checked against :func:`_phase_one`."""
    s = math.log2(law.a / (2.0 * eta))
    if s <= 0.0:
        return 0
    goal = math.log(1.0 / budget)
    low, high = s, s + goal + 1.0
    while high - s - s * math.log(high / s) < goal:
        high *= 2.0
    for _ in range(200):
        mid = (low + high) / 2.0
        low, high = (mid, high) if mid - s - s * math.log(mid / s) < goal else (low, mid)
    n = max(1, math.floor(high / (law.kappa / 2.0)) - 1)
    while _phase_one(n, law, eta) > budget:
        n += 1
    return n


def subset_sum_block_size(eta: float, w_max: float, failure: float, *, law: str) -> tuple[int, tuple[int, int, int, float]]:
    """The least block size ``k = n1 + n2 + r`` this module finds with :func:`subset_sum_failure` at
    most ``failure``, searched over the phase-2 targets ``x`` in (1/2, 3/4, 7/8, 15/16, 31/32) and over
    splits of ``failure`` between the phases; returns ``(k, (n1, n2, r, x))``. Refuses a ``w_max`` for
    which the lemma gives no landing bound (none up to 1)."""
    the_law = _law(law)
    eta = _validate.positive_float(eta, "eta")
    failure = _validate.probability(failure, "failure")
    if w_max <= eta:
        return 0, (0, 0, 0, 0.5)
    best: tuple[int, tuple[int, int, int, float]] | None = None
    for x in _TARGETS:
        q = the_law.landing(x, w_max)
        if q <= 0.0:
            continue
        for f1 in _SPLITS:
            for f2 in (0.0,) if x == 0.5 else _SPLITS:
                f3 = 1.0 - f1 - f2
                if f3 < 0.05:
                    continue
                n1 = _least_n1(the_law, eta, failure * f1)
                n2 = (
                    0
                    if x == 0.5
                    else max(0, math.ceil(math.log(failure * f2 * (1.0 - x) * 2.0) / math.log1p(-the_law.kappa / 2.0)))
                )
                r = max(1, math.ceil(math.log(failure * f3) / math.log1p(-min(q, 1.0 - 1e-16))))
                for _ in range(64):  # rounding of the closed forms: never report a k that misses the bound
                    if subset_sum_failure(n1, n2, r, eta=eta, w_max=w_max, law=law, x=x) <= failure:
                        break
                    r += 1
                else:
                    continue
                if best is None or n1 + n2 + r < best[0]:
                    best = (n1 + n2 + r, (n1, n2, r, x))
    if best is None:
        raise InvalidInputError(
            f"the subset-sum lemma of docs/theory.md §14.3 gives no bound for weights up to {w_max:.4g} with law {law!r}"
        )
    return best


def _check(dims: Sequence[int], block_sizes: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    dims = _validate.dims(dims)
    if isinstance(block_sizes, (str, bytes)) or not isinstance(block_sizes, Sequence) or len(block_sizes) != len(dims) - 1:
        raise InvalidInputError(f"block_sizes must be a sequence of {len(dims) - 1} positive integers, got {block_sizes!r}")
    return dims, tuple(_validate.positive_int(k, f"block size of layer {i}") for i, k in enumerate(block_sizes, start=1))


def burkholz_dims(dims: Sequence[int], block_sizes: Sequence[int]) -> tuple[int, ...]:
    """G's widths ``(n_0, n_0 k_1, n_1 k_2, ..., n_{l-1} k_l, n_l)``: ``l + 1`` matrices (docs/theory.md §14.1)."""
    dims, ks = _check(dims, block_sizes)
    return (dims[0],) + tuple(dims[i - 1] * ks[i - 1] for i in range(1, len(dims))) + (dims[-1],)


def burkholz_parameter_count(dims: Sequence[int], block_sizes: Sequence[int]) -> int:
    """Weights of G: ``sum_t rows_t cols_t`` over its ``l + 1`` matrices."""
    widths = burkholz_dims(dims, block_sizes)
    return sum(widths[t] * widths[t + 1] for t in range(len(widths) - 1))


def burkholz_event_counts(dims: Sequence[int], block_sizes: Sequence[int]) -> tuple[int, ...]:
    """Subset-sum events per target layer: ``2 n_1 k_2 n_0`` (two sides, ``k_2`` copies of each output)
    for layer 1, ``n_i k_{i+1} n_{i-1}`` for ``i >= 2``, with ``k_{l+1} = 1`` (the output has no copies)."""
    dims, ks = _check(dims, block_sizes)
    copies = ks[1:] + (1,)
    return tuple((2 if i == 1 else 1) * dims[i] * copies[i - 1] * dims[i - 1] for i in range(1, len(dims)))


def burkholz_amplification(
    dims: Sequence[int],
    block_sizes: Sequence[int],
    spectral_norms: Sequence[float] | None = None,
    *,
    negative_slope: float = 0.0,
) -> tuple[float, ...]:
    """``gamma_i`` of docs/theory.md §14.4: per-weight errors ``<= eta_i`` in every layer give
    ``certified_error <= sum_i gamma_i eta_i``, with ``gamma_i = sqrt(h_i n_{i-1} n_l) R_{i-1}
    prod_{m=i+1}^{l} n_{m-1} k_m`` (``h_1 = 2 (1 + a^2)``, else 1; ``R_{i-1} = prod_{j<i} s_j``, 1 when
    ``spectral_norms`` is None, as the assumptions allow). ``negative_slope``: the activation's ``a``
    (0: the ReLU, ``h_1 = 2``; a leaky ReLU's first layer reads ``[s_a(x); s_a(-x)]``, of norm
    ``sqrt(1 + a^2) ||x||``, docs/theory.md §14.6)."""
    dims, ks = _check(dims, block_sizes)
    first = _first_layer_factor(_validate.negative_slope(negative_slope))
    depth = len(dims) - 1
    s = [1.0] * depth if spectral_norms is None else [float(x) for x in _validate.float_array(spectral_norms, "spectral_norms")]
    if len(s) != depth:
        raise InvalidInputError(f"spectral_norms has {len(s)} entries, the target has {depth} layers")
    out = []
    for i in range(1, depth + 1):
        gain = math.prod(dims[m - 1] * ks[m - 1] for m in range(i + 1, depth + 1))
        out.append(math.sqrt((first if i == 1 else 1) * dims[i - 1] * dims[-1]) * math.prod(s[: i - 1]) * gain)
    return tuple(out)


def _first_layer_factor(a: float) -> float:
    """``h_1 = 2 (1 + a^2)``: ``[D+, D-]`` has ``2 n_0`` entries per row and reads ``[s_a(x); s_a(-x)]``,
    whose squared norm is ``(1 + a^2) ||x||^2`` (the integer 2 for the ReLU, as before the leaky case)."""
    return 2 if a == 0.0 else 2.0 * (1.0 + a * a)


def first_layer_max_weight(n_in: int, negative_slope: float = 0.0) -> float:
    """The largest target of a first-layer subset sum for an admissible target of fan-in ``n_in``:
    ``min(1, 1/sqrt(n_in)) / (1 + a)`` (the leaky gadget approximates ``W_1 / (1 + a)``, docs/theory.md
    §14.6; ``min(1, 1/sqrt(n_in))`` for the ReLU, §1.1)."""
    a = _validate.negative_slope(negative_slope)
    w_max = min(1.0, 1.0 / math.sqrt(n_in))
    return w_max if a == 0.0 else w_max / (1.0 + a)


def burkholz_tolerances(
    dims: Sequence[int],
    eps: float,
    block_sizes: Sequence[int],
    spectral_norms: Sequence[float] | None = None,
    *,
    negative_slope: float = 0.0,
) -> tuple[float, ...]:
    """Per-weight tolerances ``eta_i = eps / (l gamma_i)`` (:func:`burkholz_amplification`, with the
    same ``negative_slope``): if every event of layer ``i`` is within ``eta_i``, the certified bound of
    docs/theory.md §14.4 is ``<= eps``. ``eta_i`` depends on ``k_{i+1} .. k_l`` only."""
    eps = _validate.positive_float(eps, "eps")
    gammas = burkholz_amplification(dims, block_sizes, spectral_norms, negative_slope=negative_slope)
    return tuple(eps / (len(gammas) * g) for g in gammas)


def _max_weights(dims: tuple[int, ...], a: float) -> tuple[float, ...]:
    return (first_layer_max_weight(dims[0], a),) + tuple(min(1.0, 1.0 / math.sqrt(n)) for n in dims[1:-1])


def burkholz_theorem_block_sizes(
    dims: Sequence[int], eps: float, delta: float, *, max_rounds: int = 200, negative_slope: float = 0.0
) -> tuple[int, ...]:
    """A-priori block sizes ``k_1 .. k_l`` (docs/theory.md §14.5): the least fixed point, from
    ``k = (1, ..., 1)`` upward, of ``k_i = subset_sum_block_size(eta_i(k), w_max,i, delta / N_ev(k))``
    with ``eta`` from :func:`burkholz_tolerances` (``R = 1``), ``N_ev = sum`` of
    :func:`burkholz_event_counts` and ``w_max,i = min(1, 1/sqrt(n_{i-1}))`` (divided by ``1 + a`` for
    layer 1, :func:`first_layer_max_weight`); law ``"product"`` for layer 1, ``"uniform"`` after.
    Valid for every admissible target of these widths with the activation ``s_a``, ``a =
    negative_slope`` (docs/theory.md §14.6): with probability at least ``1 - delta`` over G every event
    has a subset within its tolerance."""
    dims = _validate.dims(dims)
    eps = _validate.positive_float(eps, "eps")
    delta = _validate.probability(delta, "delta")
    a = _validate.negative_slope(negative_slope)
    ks = tuple(1 for _ in dims[1:])
    for _ in range(max_rounds):
        etas = burkholz_tolerances(dims, eps, ks, negative_slope=a)
        tau = delta / sum(burkholz_event_counts(dims, ks))
        new = tuple(
            max(k, 1, subset_sum_block_size(eta, wm, tau, law="product" if i == 0 else "uniform")[0])
            for i, (k, eta, wm) in enumerate(zip(ks, etas, _max_weights(dims, a), strict=True))
        )
        if new == ks:
            return ks
        ks = new
    raise InvalidInputError(f"the block sizes did not reach a fixed point in {max_rounds} rounds (last {ks})")


def burkholz_failure_probability(
    dims: Sequence[int], block_sizes: Sequence[int], eps: float, *, negative_slope: float = 0.0
) -> float:
    """Union bound over every event of :func:`burkholz_event_counts`, each bounded by the best split of
    its block into the lemma's phases (:func:`subset_sum_failure`), capped at 1: the probability that
    some event has no subset within its tolerance (:func:`burkholz_tolerances`, ``R = 1``; the
    activation's ``negative_slope`` as in :func:`burkholz_theorem_block_sizes`)."""
    dims, ks = _check(dims, block_sizes)
    a = _validate.negative_slope(negative_slope)
    etas = burkholz_tolerances(dims, eps, ks, negative_slope=a)
    weights = _max_weights(dims, a)
    total = 0.0
    for i, (k, n_events, eta, wm) in enumerate(zip(ks, burkholz_event_counts(dims, ks), etas, weights, strict=True)):
        law = "product" if i == 0 else "uniform"
        best = 1.0
        step = max(1, k // 200)
        for x in _TARGETS:
            for n2 in range(0, k + 1, max(1, k // 40)) if x > 0.5 else (0,):
                for n1 in range(0, k - n2 + 1, step):
                    best = min(best, subset_sum_failure(n1, n2, k - n1 - n2, eta=eta, w_max=wm, law=law, x=x))
        total += n_events * best
    return float(min(1.0, total))
