"""One target layer from one layer pair of a hyperbolic G (Orseau, Hutter, Rivasplata, NeurIPS 2020;
docs/theory.md §13): every block decomposed (:func:`~stronglth.constructions.orseau.block.decompose_block`),
the kept entries of ``M_{2i-1}`` and ``M_{2i}``, the per-weight errors and the layer constant ``c_i``
of the certified bound (docs/theory.md §3).

G's layout is Malach's (docs/theory.md §1.2): ``M_{2i-1}`` is ``(n_{i-1} k, n_{i-1})``, ``M_{2i}`` is
``(n_i, n_{i-1} k)``, block ``j`` is units ``[j k, (j+1) k)``; the values follow G's distributions
(``hyperbolic(a_i)`` here), read through :class:`~stronglth.random_network.RandomNetwork`. Only the
block-diagonal entries ``u_h = M_{2i-1}[h, h // k]`` and the rows of ``M_{2i}`` are read, the latter in
chunks of :data:`CHUNK_VALUES` values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stronglth import bounds
from stronglth.constructions.orseau.block import SIDES, decompose_block
from stronglth.random_network import RandomNetwork

__all__ = ["CHUNK_VALUES", "OrseauLayer", "decompose_layer"]

CHUNK_VALUES = 1 << 22
"""Values of ``M_{2i}`` held at once (32 MiB of float64): a run of outputs times the whole row."""


@dataclass(frozen=True)
class OrseauLayer:
    """The result of one layer: ``first`` and ``second`` are ``(rows, cols, vals)`` of the kept
    entries of ``M_{2i-1}`` and ``M_{2i}``; ``d_plus`` / ``d_minus`` the per-weight errors ``A - W``
    and ``B + W`` (``d_minus`` is ``None`` without the ``N`` half); ``constant`` the ``c_i`` of
    docs/theory.md §3.1; ``units`` ``(n_out, n_in)`` the units kept per target weight (both sides);
    ``failures`` ``(output, input, side, |error|, first missing level)`` of every event with
    ``|error| > eta``, ordered by (output, input, side P first)."""

    layer: int
    k: int
    eta: float
    levels: int
    first: tuple[np.ndarray, np.ndarray, np.ndarray]
    second: tuple[np.ndarray, np.ndarray, np.ndarray]
    d_plus: np.ndarray
    d_minus: np.ndarray | None
    constant: float
    units: np.ndarray
    failures: list[tuple[int, int, int, float, int]]

    @property
    def failed_events(self) -> int:
        return len(self.failures)


def decompose_layer(
    network: RandomNetwork, i: int, weights: np.ndarray, k: int, *, eta: float, negative_half: bool
) -> OrseauLayer:
    """Decompose every weight of target layer ``i`` (1-based, ``weights`` of shape ``(n_i, n_{i-1})``)
    with blocks of ``k`` units of ``network``'s layer pair ``2i-1, 2i``, at tolerance ``eta``; the ``N``
    half too when ``negative_half`` (layer 1: the input may be negative, docs/theory.md §2.3)."""
    n_out, n_in = weights.shape
    levels = bounds.orseau_levels(eta)
    sides = SIDES if negative_half else SIDES[:1]
    u = np.stack([network.segment(2 * i - 1, j, j * k, (j + 1) * k) for j in range(n_in)])  # (n_in, k)
    d_plus = np.zeros((n_out, n_in))
    d_minus = np.zeros((n_out, n_in)) if negative_half else None
    units = np.zeros((n_out, n_in), dtype=np.int64)
    used = np.zeros((n_in, k), dtype=bool)
    second_o, second_h, second_v = [], [], []
    failures: list[tuple[int, int, int, float, int]] = []
    rows_per_chunk = max(1, CHUNK_VALUES // (n_in * k))
    for o0 in range(0, n_out, rows_per_chunk):
        o1 = min(n_out, o0 + rows_per_chunk)
        v_rows = network.block(2 * i, slice(o0, o1), slice(0, n_in * k))  # (o1 - o0, n_in k)
        for j in range(n_in):
            v = v_rows[:, j * k : (j + 1) * k]
            results = decompose_block(u[j], v, weights[o0:o1, j], eta=eta, levels=levels, sides=sides)
            for result in results:
                errors = d_plus if result.side > 0 else d_minus
                assert errors is not None
                errors[o0:o1, j] = result.errors
                units[o0:o1, j] += result.chosen.sum(axis=1)
                used[j] |= result.chosen.any(axis=0)
                o, h = np.nonzero(result.chosen)
                second_o.append(o0 + o)
                second_h.append(j * k + h)
                second_v.append(v[o, h])
                bad = np.flatnonzero(np.abs(result.errors) > eta)
                failures += [
                    (o0 + int(x), j, result.side, float(abs(result.errors[x])), int(result.missing[x])) for x in bad.tolist()
                ]
    failures.sort(key=lambda f: (f[0], f[1], -f[2]))
    blocks, offsets = np.nonzero(used)
    first_rows = (blocks * k + offsets).astype(np.int64)
    first = (first_rows, blocks.astype(np.int64), u[blocks, offsets])
    cat = lambda parts, dtype: np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)  # noqa: E731
    second = (cat(second_o, np.int64), cat(second_h, np.int64), cat(second_v, np.float64))
    constant = bounds.layer_error_constant(d_plus, d_minus)
    return OrseauLayer(i, k, eta, levels, first, second, d_plus, d_minus, constant, units, failures)
