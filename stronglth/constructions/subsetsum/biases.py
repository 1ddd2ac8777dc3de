"""Targets with biases in the subset-sum construction (after Fischer & Burkholz 2021, "Lottery tickets
with nonzero biases"; docs/theory.md §15): a target's bias is a weight on the constant input 1.

Layer ``i`` of a target with bias ``b_i`` computes ``s(W_i y + b_i) = s([W_i, b_i] [y; 1])``. G (with
bias lines, docs/theory.md §12) gets one more block in layer ``2i - 1``: units
``[n_{i-1} k_i, n_{i-1} k_i + kb_i)`` of ``M_{2i-1}``, whose incoming weights are all pruned and whose
own biases ``c_h`` are kept; such a unit outputs ``s(c_h)``, the constant ``c_h`` when ``c_h > 0``. For
each output ``o`` a subset ``S`` of those units with ``c_h > 0`` is chosen whose products
``v_oh c_h`` (``v_oh = M_{2i}[o, h]``) sum to within ``eta_b`` of ``b_o``: one subset-sum problem per
output, solved exactly as the weight events are (the same objective). Every other bias of G is
pruned, so the weight blocks are the bias-free gadgets of §5, reading the same values of G.

The certified bound (docs/theory.md §15) is the recursion of §3 with ``R_i = s_i R_{i-1} + ||b_i||``
and each layer's bias error ``beta_i = ||b'_i - b_i||_2`` added (:func:`stronglth.bounds.certified_error`).
:func:`bias_tolerances` splits ``eps`` into tolerances for weights and biases such that every event
within its tolerance gives ``certified <= eps``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stronglth import bounds
from stronglth.constructions.subsetsum.auto import AUTO_CONSTANT, local_search
from stronglth.constructions.subsetsum.layer import LayerOptions
from stronglth.random_network import RandomNetwork
from stronglth.target import TargetNetwork
from stronglth.ticket import Ticket

__all__ = [
    "BIAS_DISTRIBUTION",
    "BiasBlock",
    "attach_biases",
    "bias_start",
    "bias_tolerances",
    "biased_network",
    "search_bias_block",
    "solve_bias_block",
]

BIAS_DISTRIBUTION = "uniform"
"""G's biases, like its weights, are i.i.d. U[-1, 1] (docs/theory.md §12)."""


def bias_tolerances(target: TargetNetwork, eps: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``(eta_i, eta_b_i)``: per-weight and per-bias tolerances such that every weight error within
    ``eta_i`` and every bias error within ``eta_b_i`` give ``E_l <= eps`` (docs/theory.md §15).

    With ``s_i <= 1``, ``B = sum_{i < l} ||b_i||`` and ``gamma = ln(1 + eps / (2 (1 + B)))``: the
    weights get :func:`stronglth.bounds.per_weight_tolerance` at ``eps / (2 (1 + B))`` (so
    ``sum c_i <= gamma``), and layer ``i``'s biases ``eta_b_i = eps / (2 l e^gamma sqrt(n_i))`` (so
    ``sum beta_i <= eps / (2 e^gamma)``); then ``E_l <= (e^gamma - 1)(1 + B) + e^gamma sum beta_i <= eps``.
    """
    dims, depth = target.dims, target.depth
    norms = [float(np.linalg.norm(b)) for b in target.biases]
    budget = sum(norms[:-1])
    weight_eps = eps / (2.0 * (1.0 + budget))
    gamma = math.log1p(weight_eps)
    etas = bounds.per_weight_tolerance(dims, weight_eps)
    bias_etas = tuple(eps / (2.0 * depth * math.exp(gamma) * math.sqrt(dims[i])) for i in range(1, depth + 1))
    return etas, bias_etas


def biased_network(
    target: TargetNetwork, block_sizes: Sequence[int], bias_block_sizes: Sequence[int], *, seed: int
) -> RandomNetwork:
    """G for a target with biases: the layout of :meth:`RandomNetwork.for_target` with ``kb_i`` more
    units in layer ``2i - 1`` (the bias block) and a bias line on every matrix. The weight blocks read
    the same values as in the bias-free G of the same block sizes (a line's values do not depend on its length)."""
    dims = target.dims
    shapes: list[tuple[int, int]] = []
    for i, (k, kb) in enumerate(zip(block_sizes, bias_block_sizes, strict=True), start=1):
        m = dims[i - 1] * k + kb
        shapes += [(m, dims[i - 1]), (dims[i], m)]
    return RandomNetwork(shapes, seed=seed, biases=[BIAS_DISTRIBUTION] * len(shapes))


@dataclass(frozen=True)
class BiasBlock:
    """The bias events of one layer: the kept biases of ``M_{2i-1}`` (``units``, ``values``), the kept
    entries of ``M_{2i}`` (``second``: rows, cols, vals), each output's signed error ``b'_o - b_o``,
    and the outputs whose best error missed ``eta_b`` (``failed``)."""

    layer: int
    kb: int
    units: np.ndarray
    values: np.ndarray
    second: tuple[np.ndarray, np.ndarray, np.ndarray]
    errors: np.ndarray
    failed: np.ndarray

    @property
    def error_norm(self) -> float:
        """``beta_i = ||b'_i - b_i||_2``."""
        return float(np.linalg.norm(self.errors))


def solve_bias_block(network: RandomNetwork, i: int, k: int, kb: int, bias: np.ndarray, options: LayerOptions) -> BiasBlock:
    """The bias events of layer ``i``: per output ``o``, the subset of the bias block's units with
    ``c_h > 0`` (the first ``options.max_candidates`` of them, in unit order) whose ``v_oh c_h`` sum to
    within ``options.eta`` (the bias tolerance ``eta_b_i``) of ``b_o`` under ``options`` (objective,
    subset size), docs/theory.md §15."""
    n_in, n_out = network.shapes[2 * i - 2][1], network.shapes[2 * i - 1][0]
    first = n_in * k
    units = np.arange(first, first + kb, dtype=np.int64)
    c = network.bias_values_at(2 * i - 1, units) if kb else np.zeros(0)
    candidates = units[c > 0][: options.max_candidates]
    c_candidates = c[c > 0][: options.max_candidates]
    n_cand = candidates.size
    outputs = np.repeat(np.arange(n_out, dtype=np.int64), n_cand)
    v = network.values_at(2 * i, outputs, np.tile(candidates, n_out)).reshape(n_out, n_cand)
    products = v * c_candidates
    if n_cand:
        mask, errors = options.solve(products, np.asarray(bias, dtype=np.float64))
        mask = np.asarray(mask, dtype=bool).reshape(n_out, n_cand)
        errors = np.asarray(errors, dtype=np.float64)
    else:
        mask = np.zeros((n_out, 0), dtype=bool)
        errors = -np.asarray(bias, dtype=np.float64)
    rows, cols = np.nonzero(mask)
    used = np.unique(cols)
    second = (rows.astype(np.int64), candidates[cols].astype(np.int64), v[rows, cols])
    return BiasBlock(
        layer=i,
        kb=kb,
        units=candidates[used],
        values=c_candidates[used],
        second=second,
        errors=errors,
        failed=np.flatnonzero(np.abs(errors) > options.eta),
    )


def search_bias_block(
    target: TargetNetwork, seed: int, i: int, k: int, kb_start: int, options: LayerOptions, *, explicit: bool
) -> tuple[BiasBlock, list[int]]:
    """The bias block of layer ``i`` for weight blocks of ``k`` units: with ``explicit``, ``kb = kb_start``;
    otherwise the local search of ``block_sizes="auto"``
    (:func:`~stronglth.constructions.subsetsum.auto.local_search`) from ``kb_start``. Only layer
    ``i``'s block sizes enter its values, so the other layers' sizes do not matter here."""
    bias = target.biases[i - 1]
    tried: list[int] = []

    def attempt(kb: int) -> BiasBlock:
        tried.append(kb)
        ks = [k if j == i else 1 for j in range(1, target.depth + 1)]
        kbs = [kb if j == i else 0 for j in range(1, target.depth + 1)]
        return solve_bias_block(biased_network(target, ks, kbs, seed=seed), i, k, kb, bias, options)

    if explicit:
        return attempt(kb_start), tried
    _, found, _ = local_search(attempt, kb_start, lambda block: block.failed.size == 0)
    return found, tried


def bias_start(dims: Sequence[int], bias_etas: Sequence[float], delta: float) -> tuple[int, ...]:
    """Where the bias blocks' search starts: ``ceil(AUTO_CONSTANT log2(n_i / (delta eta_b_i)))``, the
    rule of the weight blocks with the layer's ``n_i`` bias events (an empirical rule, not a theorem)."""
    return tuple(
        max(1, math.ceil(AUTO_CONSTANT * math.log2(dims[i] / (delta * eta)))) for i, eta in enumerate(bias_etas, start=1)
    )


def attach_biases(
    target: TargetNetwork, seed: int, ks: Sequence[int], layers: Sequence, blocks: Sequence[BiasBlock], meta: dict
) -> Ticket:
    """The ticket of a biased target: the weight layers' entries (unchanged positions: the weight
    blocks come first in every line), each bias block's entries of ``M_{2i}`` and its kept biases of
    ``M_{2i-1}``, in G of :func:`biased_network`; certified by the biased recursion (docs/theory.md §15)."""
    kbs = [b.kb for b in blocks]
    network = biased_network(target, ks, kbs, seed=seed)
    entries, biases = [], []
    for layer, block in zip(layers, blocks, strict=True):
        second = tuple(np.concatenate((a, b)) for a, b in zip(layer.second, block.second, strict=True))
        entries += [layer.first, second]
        biases += [(block.units, block.values), None]
    spectral = [n.spectral_norm for n in target.layer_norms()]
    constants = [layer.constant for layer in layers]
    bias_norms = [float(np.linalg.norm(b)) for b in target.biases]
    bias_errors = [block.error_norm for block in blocks]
    certified = bounds.certified_error(spectral, constants, bias_norms=bias_norms, bias_errors=bias_errors)
    meta = {
        **meta,
        "bias_block_sizes": kbs,
        "bias_failures": int(sum(b.failed.size for b in blocks)),
        "bias_errors": bias_errors,
        "bias_norms": bias_norms,
        "layer_constants": constants,
        "spectral_norms": spectral,
    }
    return Ticket(network, entries, biases=biases, target=target, certified_error=certified, meta=meta)
