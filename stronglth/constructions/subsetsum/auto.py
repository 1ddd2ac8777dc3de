"""The ``block_sizes="auto"`` search of the subset-sum construction (docs/theory.md §5): where it
starts (an empirical rule, not a theorem) and the local search of one layer from there."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from stronglth import bounds
from stronglth.constructions.subsetsum.layer import SubsetSumLayer
from stronglth.errors import TicketNotFound
from stronglth.random_network import RandomNetwork
from stronglth.target import TargetNetwork

T = TypeVar("T")

__all__ = ["AUTO_CONSTANT", "AUTO_MAX_BLOCK", "auto_start", "local_search", "search_layer", "not_found"]

AUTO_CONSTANT = 1.25
"""``C`` of the starting point ``ceil(C log2(N_ev / (delta eta_i)))`` of ``block_sizes="auto"``.

An empirical rule, not a theorem: Pensia et al. (2020) prove ``k = O(log(N / (delta eta)))`` with
no explicit constant (Lueker 1998). Calibrated (``python -m benchmarks.subsetsum_calibrate``,
record ``benchmarks/results/subsetsum_calibrate.json``) by measuring the least block size
``k_min`` at which every event of a layer succeeds, for 13 random targets from 1-1 to 100-100-10
(eps 0.01 to 0.1, or eta 0.003 to 0.03; delta = 0.05) and 5 seeds each, 125 layer runs. The ratio
``k_min / log2(N_ev / (delta eta_i))`` has quantiles 10%: 1.24, 25%: 1.34, median 1.47, 90%: 1.92
(min 0.84; a fat upper tail up to 6.4 for one-weight targets with ``|w|`` near 1). ``C = 1.25``
(about the 10% quantile) starts at or below ``k_min`` in 89% of those runs, a median of 4 units
below. For the 784-500-10 target at eta = 0.01 (seed 0) the start is 39 for both layers and the
search finds 48 (ratio 1.57) and 37."""

AUTO_MAX_BLOCK = 96
"""``block_sizes="auto"`` gives up above this block size (per-weight tolerances near float64's
resolution; at most :data:`~stronglth.constructions.subsetsum.solver.MAX_K` candidates per side are solved)."""


def auto_start(
    dims: Sequence[int], etas: Sequence[float], delta: float, *, negative_half_everywhere: bool = False
) -> tuple[int, ...]:
    """The starting block sizes of ``block_sizes="auto"``: ``ceil(AUTO_CONSTANT log2(N_ev / (delta eta_i)))``
    (an empirical rule, not a theorem; :data:`AUTO_CONSTANT`)."""
    n_events = bounds.event_count(dims, negative_half_everywhere=negative_half_everywhere)
    return tuple(max(1, math.ceil(AUTO_CONSTANT * math.log2(n_events / (delta * eta)))) for eta in etas)


def local_search(attempt: Callable[[int], T], start: int, succeeds: Callable[[T], bool]) -> tuple[int, T, bool]:
    """The local search of ``block_sizes="auto"`` (docs/theory.md §5): ``attempt(start)``; if it
    succeeds, down while ``k - 1`` succeeds, else up until ``k`` succeeds or ``k = AUTO_MAX_BLOCK``.
    Returns ``(k, attempt(k), found)``: with ``found``, ``k`` succeeds and ``k - 1`` does not (or
    ``k = 1``); without, the last attempt failed. Shared by the subset-sum layers, their bias blocks
    (§15) and Burkholz's layers (§14)."""
    k = start
    result = attempt(k)
    if succeeds(result):
        while k > 1:
            lower = attempt(k - 1)
            if not succeeds(lower):
                break
            k, result = k - 1, lower
        return k, result, True
    while k < AUTO_MAX_BLOCK:
        k += 1
        result = attempt(k)
        if succeeds(result):
            return k, result, True
    return k, result, False


def search_layer(
    target: TargetNetwork, seed: int, i: int, k_start: int, solve_layer: Callable[..., Any], on_failure: str
) -> tuple[SubsetSumLayer, list[int]]:
    """Local search from ``k_start`` (:func:`local_search`): the result ``k`` succeeds for this G and
    ``k - 1`` does not (or ``k = 1``)."""
    tried: list[int] = []

    def attempt(k: int) -> SubsetSumLayer:
        tried.append(k)
        network = RandomNetwork.for_target(target, [k] * target.depth, seed=seed)  # layer i depends on k_i only
        return solve_layer(network, i, k, stop_on_failure=True)

    k, found, success = local_search(attempt, k_start, lambda layer: layer.failed_events == 0)
    if success:
        return found, tried
    if on_failure == "raise":
        raise TicketNotFound(
            f"block_sizes='auto': no block size up to {AUTO_MAX_BLOCK} makes every event of layer {i} succeed for seed {seed}"
            f" ({found.failed_events} or more failed at k = {k}); the per-weight tolerance may be too small for float64"
            " or for max_candidates; or pass explicit block sizes with on_failure='best_effort'"
        )
    network = RandomNetwork.for_target(target, [k] * target.depth, seed=seed)
    return solve_layer(network, i, k, stop_on_failure=False), tried


def not_found(layer: SubsetSumLayer, eta: float, k_auto: int, subset_size: int | None = None) -> TicketNotFound:
    output, input_, side, error, candidates = layer.failures[0]
    side_name = "P (u > 0)" if side > 0 else "N (u < 0)"
    more = "" if layer.complete else " or more"
    if subset_size is not None and candidates < subset_size:
        return TicketNotFound(
            f"subset_size = {subset_size}: layer {layer.layer}, output {output}, input {input_}, side {side_name} has only"
            f" {candidates} candidate unit(s) with block size {layer.k}; use larger blocks or a smaller subset_size"
            f" ({layer.failed_events}{more} event(s) failed in this layer)"
        )
    return TicketNotFound(
        f"width too small: layer {layer.layer}, output {output}, input {input_}, side {side_name}:"
        f" best error {error:.3g} > eta = {eta:.3g} with block size {layer.k} ({candidates} candidates on this side);"
        f" the 'auto' rule (empirical, not a theorem) suggests block size {k_auto} to start from:"
        f" block_sizes='auto' searches for one that works ({layer.failed_events}{more} event(s) failed in this layer;"
        " on_failure='best_effort' returns the best ticket)"
    )
