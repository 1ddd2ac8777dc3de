"""The certified a-posteriori bound of the depth ``l + 1`` construction (docs/theory.md §14.4, derived
here), from the layers' errors and kept weights, and recomputed from a ticket alone; for the ReLU and
for a leaky ReLU ``s_a(t) = max(t, a t)``, ``0 <= a < 1`` (docs/theory.md §14.6).

The ticket's hidden layer ``i < l`` holds ``c_i`` copies of each target neuron (unit ``o c_i + c``);
``E_i`` repeats each coordinate ``c_i`` times. With ``D_1 = [D+, D-]`` (first layer, rows: copies;
``D+ = A - W_1 / (1 + a)``, ``D- = B + W_1 / (1 + a)``: :func:`first_layer_targets`) and, for
``i >= 2``, ``V_i`` the kept weights of ``M_{i+1}`` and ``D_i = V_i E_{i-1} - E_i W_i`` (block sums
minus the target), the error ``e_i = y'_i - E_i y_i`` of the copies satisfies
``e_i = D_i y_{i-1} + V_i e_{i-1}`` before the activation (1-Lipschitz entrywise, and ``s_a(E z) =
E s_a(z)``; no sign of ``y`` is used). Two bounds are carried together, a Euclidean one
``err_i >= ||e_i||`` and an entrywise one ``b_i >= |e_i|``:

    err_1 = sqrt(1 + a^2) ||D_1||_2,  b_1 = sqrt(1 + a^2) rows(D_1)     (||[s_a(x); s_a(-x)]|| = sqrt(1 + a^2) ||x||)
    err_i = ||D_i||_2 R_{i-1} + min(||V_i||_2 err_{i-1}, || |V_i| b_{i-1} ||)
    b_i   = rows(D_i) R_{i-1} + min(|V_i| b_{i-1}, rows(V_i) err_{i-1})  (entrywise min)

with ``R_{i-1} = prod_{j<i} ||W_j||_2 >= ||y_{i-1}||`` (``|s_a(t)| <= |t|``); ``err_l`` bounds
``sup_{||x|| <= 1} ||T(x) - F(x)||``. For ``a = 0`` no factor is applied (the ReLU bound, bit for bit).
``||V||_2`` is computed densely up to :data:`DENSE_NORM_ENTRIES` entries and replaced by the Frobenius
norm (an upper bound) above.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "DENSE_NORM_ENTRIES",
    "copy_error_trace",
    "first_layer_errors",
    "first_layer_targets",
    "copy_layer_errors",
    "recomputed_certified_error",
]

DENSE_NORM_ENTRIES = 1 << 22
"""Spectral norms of kept matrices up to this many entries are exact (dense SVD); above, Frobenius."""


def _spectral(matrix: Any) -> float:
    """``||matrix||_2`` (dense SVD) up to :data:`DENSE_NORM_ENTRIES` entries, the Frobenius norm above."""
    rows, cols = matrix.shape
    if rows == 0 or cols == 0:
        return 0.0
    sparse = sp.csr_matrix(matrix)
    if rows * cols <= DENSE_NORM_ENTRIES:
        return float(np.linalg.norm(sparse.toarray(), 2))
    return float(np.sqrt(np.sum(np.square(sparse.data))))


def first_layer_targets(weights: np.ndarray, negative_slope: float = 0.0) -> np.ndarray:
    """What the first layer's subset sums approximate: ``W_1`` for the ReLU, ``W_1 / (1 + a)`` for a
    leaky ReLU (``A s_a(x) + B s_a(-x) = W x`` for every ``x`` exactly when ``A = -B = W / (1 + a)``,
    since ``s_a(x) - s_a(-x) = (1 + a) x``; docs/theory.md §14.6). The construction and the
    recomputation of the bound use this one function, so both see the same float64 values."""
    return weights if negative_slope == 0.0 else weights / (1.0 + negative_slope)


def _first_factor(negative_slope: float) -> float:
    """``sqrt(1 + a^2)``: ``||[s_a(x); s_a(-x)]||_2 = sqrt(1 + a^2) ||x||_2``."""
    return float(np.sqrt(1.0 + negative_slope * negative_slope))


def copy_error_trace(
    d_first: np.ndarray,
    later: Sequence[tuple[sp.csr_matrix, np.ndarray]],
    spectral_norms: Sequence[float],
    *,
    negative_slope: float = 0.0,
) -> tuple[float, ...]:
    """``(err_1, ..., err_l)`` of the module docstring: ``d_first`` is ``D_1 = [D+, D-]`` (copies x 2 n_0),
    ``later`` the pairs ``(V_i, D_i)`` for ``i = 2 .. l``, ``spectral_norms`` the target's ``||W_i||_2``
    and ``negative_slope`` the activation's ``a`` (``err_1`` and ``b_1`` carry ``sqrt(1 + a^2)``)."""
    err = _spectral(d_first)
    bound = np.linalg.norm(d_first, axis=1)
    if negative_slope != 0.0:
        factor = _first_factor(negative_slope)
        err, bound = err * factor, bound * factor
    out = [err]
    radius = 1.0
    for i, (v, d) in enumerate(later, start=2):
        radius *= float(spectral_norms[i - 2])
        v = sp.csr_matrix(v)
        absolute = abs(v)
        row_norms = np.sqrt(np.asarray(v.multiply(v).sum(axis=1)).ravel())
        through_entries = absolute @ bound
        err_next = _spectral(d) * radius + min(_spectral(v) * err, float(np.linalg.norm(through_entries)))
        bound = np.linalg.norm(d, axis=1) * radius + np.minimum(through_entries, row_norms * err)
        err = err_next
        out.append(err)
    return tuple(out)


def first_layer_errors(
    first: Any, second: Any, weights: np.ndarray, copies: int, *, negative_slope: float = 0.0
) -> np.ndarray | None:
    """``D_1 = [D+, D-]`` (rows: copies ``o copies + c``) from the kept entries of ``M_1`` (``first``: a
    unit reads one input) and ``M_2`` (``second``), against :func:`first_layer_targets` of ``weights``
    (``W_1``, or ``W_1 / (1 + a)`` for ``negative_slope = a``); ``None`` when a unit of ``M_1`` reads
    several inputs. Unit ``h`` computes ``s_a(u_h x_j) = u_h s_a(x_j)`` (``u_h > 0``) or
    ``|u_h| s_a(-x_j)`` (``u_h < 0``), so row ``r`` of ``M_2`` computes ``A s_a(x) + B s_a(-x)``."""
    n_out, n_in = weights.shape
    if np.any(np.diff(first.rows) == 0):
        return None
    unit_input = dict(zip(first.rows.tolist(), first.cols.tolist(), strict=True))
    unit_weight = dict(zip(first.rows.tolist(), first.vals.tolist(), strict=True))
    a = np.zeros((n_out * copies, n_in))
    b = np.zeros((n_out * copies, n_in))
    for r, h, v in zip(second.rows.tolist(), second.cols.tolist(), second.vals.tolist(), strict=True):
        if h not in unit_input:
            continue  # a unit without an input weight outputs s(0) = 0
        u, j = unit_weight[h], unit_input[h]
        if u > 0:
            a[r, j] += v * u
        elif u < 0:
            b[r, j] += v * -u
    target = np.repeat(first_layer_targets(weights, negative_slope), copies, axis=0)
    return np.hstack((a - target, b + target))


def copy_layer_errors(
    kept: Any, shape: tuple[int, int], weights: np.ndarray, k: int, copies: int
) -> tuple[sp.csr_matrix, np.ndarray]:
    """``(V_i, D_i)`` from the kept entries of ``M_{i+1}`` (of ``shape``): ``D_i[r, j] = sum of row r's
    kept weights in block j - W_i[r // copies, j]``."""
    v = sp.csr_matrix((kept.vals, (kept.rows, kept.cols)), shape=shape)
    n_in = weights.shape[1]
    sums = np.zeros((shape[0], n_in))
    np.add.at(sums, (kept.rows, kept.cols // k), kept.vals)
    return v, sums - np.repeat(weights, copies, axis=0)


def recomputed_certified_error(ticket: Any, reference: Any = None) -> float | None:
    """The bound of the module docstring recomputed from a ticket's kept weights and its target, for a
    ticket laid out as this construction lays G out (``l + 1`` matrices, ``M_1`` of ``n_0 k_1`` rows,
    row counts multiples of the target's widths); ``None`` for any other ticket. This is the hook for
    :meth:`Ticket.audit <stronglth.Ticket.audit>` (docs/theory.md §14.4). ``reference``: the network the
    ticket's layers approximate, in place of ``ticket.target`` (for a rescaled ticket, ``F / c`` of
    :func:`stronglth.gadget_form.reference_target`; the caller multiplies by the output scale);
    without it, a ticket with an output scale has no bound here. The activation is G's,
    ``ticket.network.negative_slope``; it must be the reference target's (else ``None``: the bound
    compares networks with one activation, docs/theory.md §14.6)."""
    target = getattr(ticket, "target", None) if reference is None else reference
    if target is None or ticket.network.depth != target.depth + 1 or getattr(target, "has_biases", False):
        return None
    slope = float(getattr(ticket.network, "negative_slope", 0.0))
    if slope != float(getattr(target, "negative_slope", 0.0)):
        return None
    scaled = reference is None and float(getattr(ticket, "output_scale", 1.0)) != 1.0
    if getattr(ticket, "bias_nnz", 0) or scaled:
        return None  # biases are outside this construction (docs/theory.md §14.6); the scale is the caller's
    dims, shapes = target.dims, ticket.network.shapes
    depth = target.depth
    ks = [shapes[i][1] // dims[i - 1] for i in range(1, depth + 1)]  # k_1 .. k_l: M_{i+1} has n_{i-1} k_i columns
    copies = [shapes[i][0] // dims[i] for i in range(1, depth + 1)]  # c_1 .. c_l: M_{i+1} has n_i c_i rows
    if any(shapes[i][0] != dims[i] * copies[i - 1] or shapes[i][1] != dims[i - 1] * ks[i - 1] for i in range(1, depth + 1)):
        return None
    if copies[-1] != 1:
        return None
    d_first = first_layer_errors(ticket.kept(1), ticket.kept(2), target.weights[0], copies[0], negative_slope=slope)
    if d_first is None:
        return None
    later = [
        copy_layer_errors(ticket.kept(i + 1), shapes[i], target.weights[i - 1], ks[i - 1], copies[i - 1])
        for i in range(2, depth + 1)
    ]
    spectral = [n.spectral_norm for n in target.layer_norms()]
    return copy_error_trace(d_first, later, spectral, negative_slope=slope)[-1]
