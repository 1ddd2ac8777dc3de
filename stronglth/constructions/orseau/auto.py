"""The ``block_sizes="auto"`` search of the Orseau construction (docs/theory.md §13): the least block
size at which every event of a layer succeeds for *this* G, measured, next to the theorem's a-priori one.

Layer pair ``i`` of G reads offsets ``[j k, (j+1) k)`` of its lines and its distributions depend on
``eps`` only, so layer ``i`` depends on ``k_i`` alone and layers are searched independently. Success
is not monotone in ``k`` (another ``k`` reads other values), so the search returns a ``k`` that
succeeds while ``k - 1`` fails (or ``k = 1``): doubling from :func:`auto_start` until an attempt
succeeds, then bisection between the last failure (or 0) and that success.
"""

from __future__ import annotations

from collections.abc import Callable

from stronglth.constructions.orseau.layer import OrseauLayer

__all__ = ["AUTO_LIMIT_FACTOR", "auto_start", "search_layer"]

AUTO_LIMIT_FACTOR = 4
"""The search gives up above this multiple of the theorem's block size (which covers every level of
every event with probability at least ``1 - delta``)."""


def auto_start(levels: int, start_level: int) -> int:
    """Where the search starts: ``4 L`` units, ``L = K - s + 1`` the levels an event needs (a block
    offers about one unit per level and side-sign per ``4 K`` units; an empirical start, not a bound)."""
    return max(1, 4 * max(1, levels - start_level + 1))


def search_layer(attempt: Callable[[int], OrseauLayer], start: int, limit: int) -> tuple[OrseauLayer | None, list[int]]:
    """``(layer, tried)``: ``layer`` built with a block size ``k`` that succeeds (no failed event) while
    ``k - 1`` fails or is 0; ``None`` when no block size up to ``limit`` succeeded. ``attempt(k)``
    builds the layer with block size ``k``; ``tried`` lists the sizes attempted, in order."""
    tried: list[int] = []
    results: dict[int, OrseauLayer] = {}

    def ok(k: int) -> bool:
        tried.append(k)
        results[k] = attempt(k)
        return results[k].failed_events == 0

    low, high = 0, max(1, min(start, limit))
    while not ok(high):
        if high >= limit:
            return None, tried
        low, high = high, min(2 * high, limit)
    while high - low > 1:
        middle = (low + high) // 2
        if ok(middle):
            high = middle
        else:
            low = middle
    return results[high], tried
