"""The first layer of the depth ``l + 1`` construction (Burkholz, NeurIPS 2022; docs/theory.md §14.2):
a univariate layer ``M_1`` and the copies of target layer 1 in ``M_2``, by products subset sums.

``M_1`` is ``(n_0 k_1, n_0)``: unit ``h`` of block ``j`` (units ``[j k_1, (j+1) k_1)``) keeps only its
weight ``u_h = M_1[h, j]`` to input ``j``, so it computes ``s(u_h x_j)``. ``M_2`` is ``(n_1 c_1, n_0 k_1)``
with ``c_1`` copies of every neuron of target layer 1 (rows ``o c_1 + c``; ``c_1 = k_2``, and 1 when the
target has one layer). Each copy is the gadget of docs/theory.md §2 for the row ``W_1[o]``: on side ``P``
a subset of the units with ``u_h > 0`` whose products ``v_rh u_h`` sum to within ``eta_1`` of ``W_1[o, j]``,
on side ``N`` one of those with ``u_h < 0`` whose ``v_rh |u_h|`` sum to within ``eta_1`` of ``-W_1[o, j]``.

For a leaky ReLU ``s_a(t) = max(t, a t)`` (docs/theory.md §14.6) unit ``h`` computes ``s_a(u_h x_j)``,
which is ``u_h s_a(x_j)`` for ``u_h > 0`` and ``|u_h| s_a(-x_j)`` for ``u_h < 0``; as ``s_a(x) - s_a(-x) =
(1 + a) x``, side ``P`` then approximates ``W_1[o, j] / (1 + a)`` and side ``N`` its negative
(:func:`~stronglth.constructions.burkholz.certified.first_layer_targets`); ``a = 0`` is the ReLU case.

This is exactly one layer of the subset-sum construction (docs/theory.md §5) with the target's rows
(divided by ``1 + a``) repeated ``c_1`` times, so it runs
:func:`~stronglth.constructions.subsetsum.layer.solve_layer_events` on the first two matrices of G:
line ``L`` of ``M_t`` is the same stream whatever the other shapes of G (docs/theory.md §7), so a
two-matrix network with G's seed reads G's own values.
"""

from __future__ import annotations

import numpy as np

from stronglth.constructions.burkholz.certified import first_layer_targets
from stronglth.constructions.subsetsum.layer import LayerOptions, SubsetSumLayer, solve_layer_events
from stronglth.random_network import RandomNetwork

__all__ = ["first_layer_network", "solve_first_layer"]


def first_layer_network(d: int, k: int, rows: int, seed: int) -> RandomNetwork:
    """``M_1`` (``(d k, d)``) and ``M_2`` (``(rows, d k)``) of G as a network of their own (same values)."""
    return RandomNetwork([(d * k, d), (rows, d * k)], seed=seed)


def solve_first_layer(
    weights: np.ndarray,
    k: int,
    copies: int,
    seed: int,
    eta: float,
    *,
    objective: str = "sparsest",
    max_candidates: int = 40,
    stop_on_failure: bool = False,
    negative_slope: float = 0.0,
) -> SubsetSumLayer:
    """Every event of target layer 1 with ``k`` univariate units per input and ``copies`` copies per
    neuron: the subset-sum layer of ``np.repeat(W_1 / (1 + a), copies, axis=0)`` (rows ``o copies + c``;
    ``a = negative_slope``, 0 for the ReLU) in G's first two matrices, both sides (the input ``x`` may
    be negative). The result's ``d_plus`` and ``d_minus`` are ``D+ = A - W_1 / (1 + a)`` and
    ``D- = B + W_1 / (1 + a)`` by rows of ``M_2``; its ``failures`` name rows of ``M_2``."""
    n_out, d = weights.shape
    network = first_layer_network(d, k, n_out * copies, seed)
    options = LayerOptions(eta, True, None, max_candidates, stop_on_failure, objective, None)
    targets = first_layer_targets(weights, negative_slope)
    return solve_layer_events(network, 1, np.repeat(targets, copies, axis=0), k, options)
