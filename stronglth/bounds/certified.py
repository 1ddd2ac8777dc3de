"""The certified a-posteriori bound (docs/theory.md §3, derived here): the layer constants ``c_i`` of a
constructed ticket and the recursion ``E_i = s_i E_{i-1} + c_i (R_{i-1} + E_{i-1})``; with biases
(docs/theory.md §15) ``R_i = s_i R_{i-1} + ||b_i||`` and each layer adds its bias error ``beta_i``."""

from __future__ import annotations

import numpy as np

from stronglth import _validate
from stronglth.errors import InvalidInputError

__all__ = ["layer_error_constant", "certified_error_trace", "certified_error", "bias_terms"]


def layer_error_constant(d_plus, d_minus=None) -> float:
    """``c_i = ||[D+, D-]||_2`` (spectral norm), docs/theory.md §3; ``||D+||_2`` when ``d_minus`` is None.

    ``D+ = A - W`` and ``D- = B + W`` are the per-(output, input) errors of the two halves of the
    gadget; ``||z(y) - W y|| <= c_i ||y||`` because ``||[s(y); s(-y)]||_2 = ||y||_2``. For layers
    ``i >= 2`` (input ``y >= 0``) pass ``d_minus=None``.
    """
    dp = _validate.float_array(d_plus, "d_plus")
    if dp.ndim != 2 or dp.size == 0:
        raise InvalidInputError(f"d_plus must be a non-empty 2-D array, got shape {dp.shape}")
    if d_minus is None:
        stack = dp
    else:
        dm = _validate.float_array(d_minus, "d_minus")
        if dm.ndim != 2 or dm.shape != dp.shape:
            raise InvalidInputError(f"d_minus must have the shape of d_plus {dp.shape}, got shape {dm.shape}")
        stack = np.hstack([dp, dm])
    if not np.all(np.isfinite(stack)):
        raise InvalidInputError("d_plus and d_minus must be finite")
    return float(np.linalg.norm(stack, ord=2))


def _check_trace_args(spectral_norms, layer_constants) -> tuple[np.ndarray, np.ndarray]:
    s = _validate.float_array(spectral_norms, "spectral_norms")
    c = _validate.float_array(layer_constants, "layer_constants")
    if s.ndim != 1 or c.ndim != 1:
        raise InvalidInputError("spectral_norms and layer_constants must be 1-D sequences")
    if s.shape != c.shape:
        raise InvalidInputError(f"spectral_norms has length {s.size} but layer_constants has length {c.size}")
    if s.size == 0:
        raise InvalidInputError("spectral_norms and layer_constants must not be empty")
    if not (np.all(s >= 0) and np.all(np.isfinite(s))):
        raise InvalidInputError(f"spectral_norms must be finite and >= 0, got {s.tolist()!r}")
    if not (np.all(c >= 0) and np.all(np.isfinite(c))):
        raise InvalidInputError(f"layer_constants must be finite and >= 0, got {c.tolist()!r}")
    return s, c


def bias_terms(bias_norms, bias_errors, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """``(||b_i||, beta_i)`` for ``i = 1 .. depth`` as float arrays: zeros where ``None`` (no biases),
    else finite, non-negative sequences of length ``depth`` (docs/theory.md §15)."""
    out = []
    for name, v in (("bias_norms", bias_norms), ("bias_errors", bias_errors)):
        if v is None:
            out.append(np.zeros(depth))
            continue
        a = _validate.float_array(v, name)
        if a.ndim != 1 or a.size != depth:
            raise InvalidInputError(f"{name} must be a 1-D sequence of {depth} numbers (one per layer), got shape {a.shape}")
        if not (np.all(a >= 0) and np.all(np.isfinite(a))):
            raise InvalidInputError(f"{name} must be finite and >= 0, got {a.tolist()!r}")
        out.append(a)
    return out[0], out[1]


def certified_error_trace(spectral_norms, layer_constants, *, bias_norms=None, bias_errors=None) -> tuple[float, ...]:
    """The recursion of docs/theory.md §3: ``(E_1, ..., E_l)``.

    ``E_0 = 0``, ``R_0 = 1``, ``R_i = s_i R_{i-1}``, ``E_i = s_i E_{i-1} + c_i (R_{i-1} + E_{i-1})``,
    with ``s_i = ||W_i||_2`` and ``c_i`` from :func:`layer_error_constant`. (Equivalently
    ``R_i + E_i = prod_{j<=i} (s_j + c_j)``.)

    With biases (docs/theory.md §15): ``bias_norms`` ``||b_i||_2`` of the target's biases and
    ``bias_errors`` ``beta_i = ||b'_i - b_i||_2`` of the ticket's; then ``R_i = s_i R_{i-1} + ||b_i||``
    bounds the target's activations over the unit ball and ``E_i = s_i E_{i-1} + c_i (R_{i-1} +
    E_{i-1}) + beta_i``. Without them (``None``) the recursion is the bias-free one, unchanged.
    """
    s, c = _check_trace_args(spectral_norms, layer_constants)
    b, beta = bias_terms(bias_norms, bias_errors, s.size)
    e, r = 0.0, 1.0
    out = []
    for s_i, c_i, b_i, beta_i in zip(s.tolist(), c.tolist(), b.tolist(), beta.tolist(), strict=True):
        e, r = s_i * e + c_i * (r + e) + beta_i, s_i * r + b_i
        out.append(float(e))
    return tuple(out)


def certified_error(spectral_norms, layer_constants, *, bias_norms=None, bias_errors=None) -> float:
    """Certified a-posteriori bound ``E_l`` on ``sup_{x in B} ||ticket(x) - F(x)||`` (docs/theory.md §3).

    The last term of :func:`certified_error_trace`. With ``s_i <= 1``,
    ``1 + E_l <= prod (1 + c_i) <= exp(sum c_i)``, so ``sum c_i <= ln(1 + eps)`` gives ``E_l <= eps``.
    ``bias_norms`` / ``bias_errors``: the biased recursion of docs/theory.md §15.
    """
    return certified_error_trace(spectral_norms, layer_constants, bias_norms=bias_norms, bias_errors=bias_errors)[-1]
