"""A ticket's live units and the small sparse network they form (docs/theory.md §1.3, §12).

A hidden unit is live when it is a *source* reached from the input, i.e. some path of kept weights
reaches it from the input or from a unit with a kept bias (a unit with a kept bias is a source even
with no kept incoming weight: its pre-activation is its bias), and some path of kept weights leads
from it to the output. Any other unit contributes nothing: one that no path reaches and that has no
kept bias, and none upstream, has pre-activation 0 and output ``s(0) = 0`` (the leaky ReLU too:
``s_a(0) = 0``, docs/theory.md §14.6); one with no path onwards is unread. Everything here costs time
and memory in the number of kept entries, never in G's widths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Live", "live_units", "live_matrices"]


@dataclass(frozen=True)
class Live:
    """A ticket's live units: G's indices of those of each hidden layer; for each ``M_t``, which kept
    entries join live units and their rows and columns among the live units (inputs, outputs: G's);
    for each ``M_t``, which kept bias entries belong to live units and their rows among them."""

    units: list[np.ndarray]
    keeps: list[np.ndarray]
    rows: list[np.ndarray]
    cols: list[np.ndarray]
    bias_keeps: list[np.ndarray]
    bias_rows: list[np.ndarray]


def live_units(weight_rows: Sequence[np.ndarray], weight_cols: Sequence[np.ndarray], bias_rows: Sequence[np.ndarray]) -> Live:
    """The live units of each hidden layer, from the kept positions ``(weight_rows[t-1], weight_cols[t-1])``
    of each ``M_t`` and the kept bias rows ``bias_rows[t-1]`` of each ``M_t`` (the module docstring)."""
    depth = len(weight_rows)
    # hidden layer t: the units some kept entry or kept bias touches, relabelled 0, 1, ... in G's order
    touched = [np.unique(np.concatenate((weight_rows[t - 1], weight_cols[t], bias_rows[t - 1]))) for t in range(1, depth)]
    rows = [np.searchsorted(touched[t - 1], r) for t, r in enumerate(weight_rows[:-1], start=1)] + [weight_rows[-1]]
    cols = [weight_cols[0]] + [np.searchsorted(touched[t - 2], c) for t, c in enumerate(weight_cols[1:], start=2)]
    biased = [np.searchsorted(touched[t - 1], b) for t, b in enumerate(bias_rows[:-1], start=1)] + [bias_rows[-1]]
    reach: dict[int, np.ndarray] = {}  # reach[t]: touched units of layer t that are sources reached from the input
    for t in range(1, depth):
        reach[t] = np.zeros(touched[t - 1].size, dtype=bool)
        reach[t][rows[t - 1] if t == 1 else rows[t - 1][reach[t - 1][cols[t - 1]]]] = True
        reach[t][biased[t - 1]] = True
    leads: dict[int, np.ndarray] = {}  # leads[t]: those with kept paths onwards to the output
    for t in range(depth - 1, 0, -1):
        leads[t] = np.zeros(touched[t - 1].size, dtype=bool)
        leads[t][cols[t] if t == depth - 1 else cols[t][leads[t + 1][rows[t]]]] = True
    live = {t: reach[t] & leads[t] for t in range(1, depth)}
    new = {t: np.cumsum(live[t]) - 1 for t in live}  # index among the live units of layer t
    keeps, new_rows, new_cols, bias_keeps, new_bias_rows = [], [], [], [], []
    for t in range(1, depth + 1):
        keep = np.ones(weight_rows[t - 1].size, dtype=bool)
        if t < depth:
            keep &= live[t][rows[t - 1]]
        if t > 1:
            keep &= live[t - 1][cols[t - 1]]
        keeps.append(keep)
        new_rows.append(rows[t - 1][keep] if t == depth else new[t][rows[t - 1][keep]])
        new_cols.append(cols[t - 1][keep] if t == 1 else new[t - 1][cols[t - 1][keep]])
        bias_keep = np.ones(bias_rows[t - 1].size, dtype=bool) if t == depth else live[t][biased[t - 1]]
        bias_keeps.append(bias_keep)
        new_bias_rows.append(biased[t - 1][bias_keep] if t == depth else new[t][biased[t - 1][bias_keep]])
    return Live([touched[t - 1][live[t]] for t in range(1, depth)], keeps, new_rows, new_cols, bias_keeps, new_bias_rows)


def live_matrices(
    live: Live, weight_vals: Sequence[np.ndarray], bias_vals: Sequence[np.ndarray], dims: tuple[int, int]
) -> tuple[tuple[sp.csr_matrix, ...], tuple[np.ndarray | None, ...]]:
    """The kept entries between live units as sparse matrices, and each layer's kept biases as a dense
    vector over its live units (``None`` for a layer with no live kept bias); ``dims`` is G's
    ``(input width, output width)``, both kept whole."""
    widths = [dims[0]] + [u.size for u in live.units] + [dims[1]]
    matrices = tuple(
        sp.csr_matrix((vals[keep], (r, c)), shape=(widths[t], widths[t - 1]))
        for t, (vals, keep, r, c) in enumerate(zip(weight_vals, live.keeps, live.rows, live.cols, strict=True), start=1)
    )
    biases: list[np.ndarray | None] = []
    for t, (vals, keep, r) in enumerate(zip(bias_vals, live.bias_keeps, live.bias_rows, strict=True), start=1):
        if not np.any(keep):
            biases.append(None)
            continue
        vector = np.zeros(widths[t])
        vector[r] = vals[keep]
        biases.append(vector)
    return matrices, tuple(biases)
