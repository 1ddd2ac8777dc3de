"""The differential bound: symbolic linear bounds on ``f - g`` propagated through both networks at
once (docs/theory.md §10), a certified upper bound on ``sup ||f - g||`` for any ``d`` and any size.

Verifiers that bound ``f`` and ``g`` apart lose everything when the two are close (a ticket and its
target: ``|f - g|`` of order ``1e-3``, ranges of order 1). Here, in the spirit of ReluDiff (Paulsen,
Wang, Wang, ICSE 2020) and NeuroDiff (Paulsen, Wang, Wang, Wang, ASE 2020), the target's
pre-activations ``z`` and the *difference* ``dz = z_f - z`` are tracked layer by layer, as linear
functions of the input with an error allowance (:mod:`~stronglth.verification._symbolic`):

    dz' = W_f dh + (W_f - W_g) h,     dh = s(z + dz) - s(z),

with ``dh`` bounded between linear relaxations of ``min(0, dz)`` and ``max(0, dz)``, exact where the
signs of ``z`` and ``z_f`` are known. A construction ticket against its own target is handled in its
gadget form (:func:`~stronglth.gadget_form.gadget_network`), whose shared first layer ``[I; -I]`` is
kept exact: the bounds are linear in ``v = (s(x), s(-x))``.

The domain is the unit ``l2`` ball (``domain="ball"``) or the box ``[-1, 1]^d`` (``"box"``), and, for
branch-and-bound, any sub-box of it intersected with the domain.

A network with a leaky ReLU ``s_a`` is bounded in its ReLU form (``s_a(z) = s(z) - a s(-z)``: each unit
twice, on ``z`` and ``-z``, read with ``W`` and ``-a W``; :func:`~stronglth.verification._pair.pair_layers`,
docs/theory.md §14.6): the bound is certified for that form, whose function equals the leaky
network's up to one rounding of each product ``a W`` (relative ``2^-53``).

Biases shift the pre-activations by constants: ``z' = W_g h + b_g``, ``dz' = W_f dh + (W_f - W_g) h +
(b_f - b_g)`` (the difference split exactly by TwoSum); each constant is added to the linear bounds'
constants, its rounding to their allowance. The norm-based bounds and the spectral split of the
last layer rest on positive homogeneity and are not used for networks with biases (the symbolic
bounds alone, still certified). The ``l2`` norm of several outputs
is bounded two ways and the smaller taken: per output, and by a spectral split of the last layer
(midpoint map plus half-widths, with rigorous spectral norms). Beside the linear bounds, norm-based
ones (:mod:`~stronglth.verification._norm_bound`: the certified recursion with rigorous norms and
the halving ``s(y) = (y + |y|)/2``) are intersected in at every layer, so the bound is never worse
than the certified one (docs/theory.md §3) by more than its norms' rounding margin.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stronglth.verification._common import ExactResult, check_norm, check_relu
from stronglth.verification._norm_bound import half_split, l2_of_bounds, next_norm, spectral_combination, v_norm
from stronglth.verification._pair import DOMAINS, PairLayers, best_point, check_domain, maximiser_points, pair_layers
from stronglth.verification._symbolic import (
    TINY,
    Linear,
    added,
    affine,
    exact_input,
    gamma,
    inf_bound,
    scaled,
    sup_bound,
    two_difference,
    up,
)

__all__ = [
    "DOMAINS",
    "PairLayers",
    "SubdomainBounds",
    "best_point",
    "bound_subdomains",
    "check_domain",
    "differential_bound",
    "maximiser_points",
    "pair_layers",
]

SPECTRAL_MAX_BATCH = 64
"""The spectral combination of the last layer (``l2``, several outputs) is computed for at most this
many sub-domains at once (it is one small matrix norm per sub-domain)."""


@dataclass
class SubdomainBounds:
    """What one propagation gives for each of ``B`` sub-domains: ``upper``, an upper bound of the
    sup error over it (``-inf`` for an empty one); ``per_output``, bounds of each ``|e_o|``;
    ``output_upper`` / ``output_lower``, the linear bounds of ``e``; ``layers``, per hidden layer the
    concrete ``(z_lo, z_hi, zf_lo, zf_hi, dz_lo, dz_hi)`` and ``symbolic``, the linear bounds
    ``(U_z, L_z, U_zf, L_zf)`` of ``z`` and ``z_f`` (paired networks only)."""

    upper: np.ndarray
    per_output: np.ndarray
    output_upper: Linear
    output_lower: Linear
    layers: list[tuple[np.ndarray, ...]]
    symbolic: list[tuple[Linear, ...]] = field(default_factory=list)


def _zero(batch: int, n: int, m: int) -> Linear:
    return Linear(np.zeros((batch, n, m)), np.zeros((batch, n)), np.zeros((batch, n)))


def _relu_g(uz: Linear, lz: Linear, lo: np.ndarray, hi: np.ndarray) -> tuple[Linear, Linear]:
    """The triangle relaxation of ``s(z)`` for ``z`` in ``[lo, hi]`` (DeepPoly's lower slope 0 or 1)."""
    on, off = lo >= 0, hi <= 0
    unstable = ~(on | off)
    width = np.where(unstable, hi - lo, 1.0)
    slope = np.where(on, 1.0, np.where(off, 0.0, up(np.where(unstable, hi, 0.0) / width, 4)))
    upper = scaled(uz, slope, np.where(unstable, lo, 0.0))
    lower = scaled(lz, np.where(on | (unstable & (hi >= -lo)), 1.0, 0.0), np.zeros_like(lo))
    return upper, lower


def _negated(bound: Linear) -> Linear:
    """``-q``: from an upper bound of ``q`` a lower bound of ``-q``, and the other way round."""
    return Linear(-bound.C, -bound.c, bound.r)


scaled_negative = _negated  # for the maximisers of a lower bound's negation


def _pick(better: np.ndarray, a: Linear, b: Linear) -> Linear:
    """Row by row, ``b`` where ``better`` else ``a``."""
    return Linear(np.where(better[..., None], b.C, a.C), np.where(better, b.c, a.c), np.where(better, b.r, a.r))


def _chord(hi: np.ndarray, lo: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``hi / (hi - lo)`` rounded up on ``rows`` (where ``lo < 0 < hi``), 0 elsewhere."""
    return np.where(rows, up(np.where(rows, hi, 0.0) / np.where(rows, hi - lo, 1.0), 4), 0.0)


def _relu_difference(
    pre: tuple[Linear, Linear, Linear, Linear],
    z: tuple[np.ndarray, np.ndarray],
    zf: tuple[np.ndarray, np.ndarray],
    dz: tuple[np.ndarray, np.ndarray],
    dom: tuple,
) -> tuple[Linear, Linear]:
    """Bounds of ``dh = s(z + dz) - s(z)`` (docs/theory.md §10). Through ``dz``: between
    ``min(0, dz)`` and ``max(0, dz)`` (chords where ``dz`` changes sign), ``<= dz`` where ``z_f >= 0``,
    ``<= 0`` where ``z_f <= 0``, ``>= dz`` where ``z >= 0``, ``>= 0`` where ``z <= 0``. Where one network's
    unit is stable and the other's is not, also directly: ``dh = s(z_f)`` (``z <= 0``), ``dz + s(-z_f)``
    (``z >= 0``), ``dz - s(-z)`` (``z_f >= 0``), ``-s(z)`` (``z_f <= 0``), with triangle relaxations; of the
    two, each unit keeps the one with the tighter concrete bound (the direct one, exact, where the
    two signs are known and opposite)."""
    uz, lz, udz, ldz = pre
    (z_lo, z_hi), (f_lo, f_hi), (d_lo, d_hi) = z, zf, dz
    zeros = np.zeros_like(z_lo)
    # upper: 0 (f off, or dz <= 0), dz (f on, or dz >= 0), else the chord of max(0, dz)
    up_zero = (f_hi <= 0) | ((f_lo < 0) & (d_hi <= 0))
    up_pass = ~up_zero & ((f_lo >= 0) | (d_lo >= 0))
    up_chord = ~(up_zero | up_pass)
    upper = scaled(udz, np.where(up_pass, 1.0, _chord(d_hi, d_lo, up_chord)), np.where(up_chord, d_lo, 0.0))
    # lower: 0 (g off, or dz >= 0), dz (g on, or dz <= 0), else the chord of min(0, dz)
    lo_zero = (z_hi <= 0) | ((z_lo < 0) & (d_lo >= 0))
    lo_pass = ~lo_zero & ((z_lo >= 0) | (d_hi <= 0))
    lo_chord = ~(lo_zero | lo_pass)
    lower = scaled(ldz, np.where(lo_pass, 1.0, _chord(-d_lo, -d_hi, lo_chord)), np.where(lo_chord, d_hi, 0.0))
    g_on, g_off, f_on, f_off = z_lo >= 0, z_hi <= 0, f_lo >= 0, f_hi <= 0
    g_mid, f_mid = ~(g_on | g_off), ~(f_on | f_off)
    crossed = (g_off & f_on) | (g_on & f_off)  # both signs known, opposite: the direct form is exact
    direct_up = (g_off & (f_mid | f_on)) | (g_on & (f_mid | f_off))
    if np.any(direct_up):  # s(z_f) where z <= 0; dz + s(-z_f) or -z where z >= 0
        uzf, lzf = added(uz, udz), added(lz, ldz)
        a1 = np.where(g_off & f_mid, _chord(f_hi, f_lo, g_off & f_mid), (g_off & f_on) * 1.0)
        other = added(
            added(scaled(uzf, a1, np.where(g_off & f_mid, f_lo, 0.0)), scaled(udz, (g_on & f_mid) * 1.0, zeros)),
            _negated(
                added(
                    scaled(lzf, _chord(-f_lo, -f_hi, g_on & f_mid), np.where(g_on & f_mid, f_hi, 0.0)),
                    scaled(lz, (g_on & f_off) * 1.0, zeros),
                )
            ),
        )
        better = direct_up & ((sup_bound(other, *dom) < sup_bound(upper, *dom)) | crossed)
        upper = _pick(better, upper, other)
    direct_lo = (f_on & (g_mid | g_off)) | (f_off & (g_mid | g_on))
    if np.any(direct_lo):  # z_f - s(z) = dz - s(-z), or z_f, where z_f >= 0; -s(z) where z_f <= 0
        lzf = added(lz, ldz)
        b2 = np.where(f_off & g_mid, _chord(z_hi, z_lo, f_off & g_mid), (f_off & g_on) * 1.0)
        other = added(
            added(
                scaled(ldz, (f_on & g_mid) * 1.0, zeros),
                scaled(lz, _chord(-z_lo, -z_hi, f_on & g_mid), np.where(f_on & g_mid, z_hi, 0.0)),
            ),
            added(scaled(lzf, (f_on & g_off) * 1.0, zeros), _negated(scaled(uz, b2, np.where(f_off & g_mid, z_lo, 0.0)))),
        )
        better = direct_lo & ((inf_bound(other, *dom) > inf_bound(lower, *dom)) | crossed)
        lower = _pick(better, lower, other)
    return upper, lower


def _shifted(bounds: tuple[Linear, Linear], *biases: np.ndarray | None) -> tuple[Linear, Linear]:
    """Upper and lower bounds of ``q + b`` (each ``b`` a constant vector, ``None`` for none) from those
    of ``q``: ``b`` added to the constants, the rounding of each addition (at most ``u |c + b|``) to
    the allowance."""
    out = []
    for bound in bounds:
        for b in biases:
            if b is not None and np.any(b):
                c = bound.c + b
                bound = Linear(bound.C, c, up(bound.r + gamma(2) * np.abs(c), 3) + TINY)
        out.append(bound)
    return out[0], out[1]


def _bias_difference(bf: np.ndarray | None, bg: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``b_f - b_g = s + t`` exactly (TwoSum; a missing bias is zero), or ``(None, None)`` for none."""
    if bf is None and bg is None:
        return None, None
    n = (bf if bf is not None else bg).shape[0]  # type: ignore[union-attr]
    return two_difference(bf if bf is not None else np.zeros(n), bg if bg is not None else np.zeros(n))


def _single(
    weights: tuple[np.ndarray, ...], v: Linear, dom: tuple, biases: tuple[np.ndarray | None, ...] = ()
) -> tuple[Linear, Linear]:
    """Linear bounds of one network's output (bounded alone: the fallback for unpaired networks)."""
    upper, lower = v, v
    for i, w in enumerate(weights):
        upper, lower = _shifted(affine([(w, upper, lower)]), biases[i] if biases else None)
        if i < len(weights) - 1:
            upper, lower = _relu_g(upper, lower, inf_bound(lower, *dom), sup_bound(upper, *dom))
    return upper, lower


def _apply_split(lo: np.ndarray, hi: np.ndarray, signs: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if signs is None:
        return lo, hi
    return np.where(signs > 0, np.maximum(lo, 0.0), lo), np.where(signs < 0, np.minimum(hi, 0.0), hi)


def bound_subdomains(
    layers: PairLayers,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    ball: bool,
    norm: str,
    splits: list[tuple[np.ndarray, np.ndarray]] | None = None,
    norm_bounds: bool | None = None,
) -> SubdomainBounds:
    """Upper bounds of ``sup ||f - g||`` in ``norm`` over each sub-domain ``[lo_b, hi_b]`` (``B, d``,
    within ``[-1, 1]^d``), intersected with the unit ball when ``ball``. ``splits``: per hidden layer,
    sign constraints ``(on_g, on_f)`` (``B, n``; ``+1`` active, ``-1`` inactive, ``0`` free) that
    restrict the sub-domain further (activation splitting); a sub-domain found empty gets ``-inf``.
    ``norm_bounds``: also intersect with the norm-based bounds of
    :mod:`~stronglth.verification._norm_bound` at every layer (``None``: for batches of at most
    :data:`SPECTRAL_MAX_BATCH`; ``False``: the symbolic bounds alone)."""
    check_relu(layers.f, "the differential bound")
    check_relu(layers.g, "the differential bound")
    batch = lo.shape[0]
    dom = (lo, hi, ball, layers.split)
    v = exact_input(batch, layers.m)
    if not layers.paired:
        uf, lf = _single(layers.f_weights, v, dom, layers.f_biases)
        ug, lg = _single(layers.g_weights, v, dom, layers.g_biases)
        eye = np.eye(uf.c.shape[-1])
        return _finish(layers, *affine([(eye, uf, lf), (-eye, ug, lg)]), dom, norm, [], None, np.zeros(batch, bool), None)
    use_norms = layers.norms is not None and (batch <= SPECTRAL_MAX_BATCH if norm_bounds is None else norm_bounds)
    vn = v_norm(lo, hi, ball)
    ug, lg = v, v
    n0 = layers.m
    ud, ld = _zero(batch, n0, layers.m), _zero(batch, n0, layers.m)
    empty = np.zeros(batch, dtype=bool)
    concrete: list[tuple[np.ndarray, ...]] = []
    symbolic: list[tuple[Linear, ...]] = []
    depth = len(layers.f_weights)
    previous: tuple | None = None  # pre-activation bounds of the last hidden layer, and its norms
    for i, (wf, wg) in enumerate(zip(layers.f_weights, layers.g_weights, strict=True)):
        s, t = two_difference(wf, wg)  # W_f - W_g = s + t exactly
        bg = layers.g_biases[i] if layers.g_biases else None
        db = _bias_difference(layers.f_biases[i] if layers.f_biases else None, bg)  # b_f - b_g = s + t exactly
        if i == depth - 1:
            eu, el = _shifted(affine([(wf, ud, ld), (s, ug, lg), (t, ug, lg)]), *db)
            extra = _norm_step(layers, i, (wf, s, t), previous, vn, dom, use_norms) if use_norms else None
            last = (wf, s, t, ud, ld, ug, lg) if layers.homogeneous else None  # the spectral split needs homogeneity
            result = _finish(layers, eu, el, dom, norm, concrete, last, empty, extra)
            result.symbolic = symbolic
            return result
        uz, lz = _shifted(affine([(wg, ug, lg)]), bg)
        udz, ldz = _shifted(affine([(wf, ud, ld), (s, ug, lg), (t, ug, lg)]), *db)
        z_lo, z_hi = inf_bound(lz, *dom), sup_bound(uz, *dom)
        d_lo, d_hi = inf_bound(ldz, *dom), sup_bound(udz, *dom)
        if use_norms:
            assert layers.norms is not None
            per, total = _norm_step(layers, i, (wf, s, t), previous, vn, dom, True)
            r_z = up(layers.norms.z_norms[i] * vn, 2) if previous is None else up(layers.norms.g_norms[i] * previous[2], 2)
            z_lo, z_hi = np.maximum(z_lo, -r_z[:, None]), np.minimum(z_hi, r_z[:, None])
            cap = total[:, None] if per is None else np.minimum(per, total[:, None])
            d_lo, d_hi = np.maximum(d_lo, -cap), np.minimum(d_hi, cap)
        uzf, lzf = added(uz, udz), added(lz, ldz)
        symbolic.append((uz, lz, uzf, lzf))
        f_lo = np.maximum(inf_bound(lzf, *dom), -up(-(z_lo + d_lo), 2))
        f_hi = np.minimum(sup_bound(uzf, *dom), up(z_hi + d_hi, 2))
        if splits is not None:
            z_lo, z_hi = _apply_split(z_lo, z_hi, splits[i][0])
            f_lo, f_hi = _apply_split(f_lo, f_hi, splits[i][1])
        empty |= np.any(z_lo > z_hi, axis=1) | np.any(f_lo > f_hi, axis=1)
        concrete.append((z_lo, z_hi, f_lo, f_hi, d_lo, d_hi))
        if use_norms:
            z_norm = np.minimum(r_z, l2_of_bounds(z_lo, z_hi))
            h_norm = np.minimum(z_norm, l2_of_bounds(np.maximum(z_lo, 0.0), np.maximum(z_hi, 0.0)))
            previous = ((uz, lz, udz, ldz), z_norm, h_norm, np.minimum(total, l2_of_bounds(d_lo, d_hi)))
        ud, ld = _relu_difference((uz, lz, udz, ldz), (z_lo, z_hi), (f_lo, f_hi), (d_lo, d_hi), dom)
        ug, lg = _relu_g(uz, lz, z_lo, z_hi)
    raise AssertionError("unreachable")


def _norm_step(layers: PairLayers, i: int, weights: tuple, previous: tuple | None, vn: np.ndarray, dom: tuple, whole: bool):
    """Norm-based bounds of the pre-activation difference ``dz`` of weight layer ``i`` (the output
    error at the last layer): per coordinate ``|dz_j| <=`` (``B, n``, or ``None``) and ``||dz||_2 <=``
    (``B``), from the recursion of the certified bound and the halving of
    :func:`~stronglth.verification._norm_bound.half_split` (docs/theory.md §10)."""
    norms = layers.norms
    assert norms is not None
    if previous is None:  # the first weight layer: dz = (W_f - W_g) v exactly, linear
        return None, up(norms.diff_norms[i] * vn, 2)
    pre, z_norm, h_norm, dz_norm = previous
    total = next_norm(norms, i, h_norm, dz_norm)
    wf, s, t = weights
    per, whole_bound = half_split(wf, s, t, pre, (z_norm, dz_norm), dom, whole and vn.shape[0] <= SPECTRAL_MAX_BATCH)
    if whole_bound is not None:
        total = np.minimum(total, whole_bound)
    return np.minimum(per, total[:, None]), total


def _finish(
    layers: PairLayers,
    eu: Linear,
    el: Linear,
    dom: tuple,
    norm: str,
    concrete: list,
    last: tuple | None,
    empty: np.ndarray,
    extra: tuple | None,
) -> SubdomainBounds:
    """The output's bounds: per output ``|e_o|`` (symbolic, intersected with ``extra``'s norm-based
    bounds), then the norm (for ``l2`` also the spectral split of the last layer and ``extra``'s total)."""
    per_output = np.maximum(np.maximum(sup_bound(eu, *dom), -inf_bound(el, *dom)), 0.0)
    if extra is not None:
        per_output = np.minimum(per_output, extra[1][:, None] if extra[0] is None else extra[0])
    n_out = per_output.shape[-1]
    if norm == "linf" or n_out == 1:
        upper = per_output.max(axis=-1)
    else:
        upper = up(np.sqrt(np.square(per_output).sum(axis=-1)), n_out + 3)
        if last is not None and per_output.shape[0] <= SPECTRAL_MAX_BATCH:
            upper = np.minimum(upper, spectral_combination(last, dom))
        if extra is not None:
            upper = np.minimum(upper, extra[1])
    return SubdomainBounds(np.where(empty, -np.inf, upper), per_output, eu, el, concrete)


def differential_bound(net: Any, target: Any, *, norm: str = "l2", domain: str = "ball", rel_gap: float = 0.01) -> ExactResult:
    """A certified upper bound on ``sup ||net - target||`` in ``norm`` over ``domain`` (the unit
    ball, or the box ``[-1, 1]^d``), by one differential propagation (module docstring; docs/theory.md
    §10), for any ``d`` and size; the lower bound is the best error at the maximisers of the output
    bounds (points of the sphere, or of the box's surface). ``status``: ``within_gap`` when the two
    are within ``rel_gap``, else ``inconclusive``; ``method="bounds"``."""
    start = time.perf_counter()
    norm, domain = check_norm(norm), check_domain(domain)
    layers = pair_layers(net, target)
    d = layers.d
    lo, hi = -np.ones((1, d)), np.ones((1, d))
    result = bound_subdomains(layers, lo, hi, ball=domain == "ball", norm=norm)
    points = np.vstack(
        [
            np.eye(d),
            maximiser_points(result.output_upper, layers.split, d),
            maximiser_points(scaled_negative(result.output_lower), layers.split, d),
        ]
    )
    lower, point = best_point(layers, points, norm, domain)
    upper = max(float(result.upper[0]), lower)
    status = "within_gap" if upper <= (1 + rel_gap) * lower else "inconclusive"
    return ExactResult(lower, upper, point, status, "bounds", time.perf_counter() - start, norm)
