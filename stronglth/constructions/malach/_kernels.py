"""Compiled (numba) filter passes of the fused scan (constructions/malach/scan.py; docs/theory.md §3, §11).

Optional: the extra ``fast`` (numba). :func:`kernels` compiles them once per process, on first use
(numba is imported there, never at import time of the package). Each kernel does, over one row
block of one chunk of raw uniforms, in a single loop without temporaries, what the numpy path of
:mod:`stronglth.constructions.malach.scan` does with whole-array passes, with the same float
operations in the same order (no fastmath; a float32 step stays float32), so the two paths keep
the same candidates and choose the same units bit for bit:

- :func:`best_block`: the float32 window filter ``y = ((f32(r) - 1/2) 2u) - lower``, a sub-chunk's
  least ``y`` read as unsigned integers against ``top`` (a negative float's bits exceed every
  non-negative one's), then for each unit that passes the weight gadget's exact float64 error
  ``|(r - 1/2)(2u) - w|``, offered at once (the numpy path offers a chunk's candidates together:
  strict improvement in unit order keeps the same least error, ties to the lowest unit);
- :func:`matching_block`: the loose tail filter on the raw uniforms, then the exact matching test.

The candidate arrays (``error``, ``unit``, ``u``, ``v``: ``(n_out, 2, 2)``; ``found``: ``(n_out, 2)``)
are :class:`~stronglth.constructions.malach.scan.Candidates`' own, updated in place.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

__all__ = ["kernels", "best_block", "matching_block"]

NONE = -1


def best_block(
    r, block, at, lower, top, u2_32, u2, u, w, first_unit, sides, first, eta, subchunk, error, unit, kept_u, kept_v, found
):  # fmt: skip
    """Rule "best" on rows ``block`` (rows ``at + i`` of the chunk's window arrays ``lower``, ``top``)."""
    size = u.size
    ybuf = np.empty(subchunk, dtype=np.float32)
    bits = ybuf.view(np.uint32)
    half = np.float32(0.5)
    for i in range(block.size):
        o = block[i]
        low = lower[at + i]
        limit_bits = top[at + i]
        w_o = w[o]
        row = r[i]
        for start in range(0, size, subchunk):
            stop = min(start + subchunk, size)
            n = stop - start
            r_sub = row[start:stop]  # slices indexed from 0: no wraparound checks, the loops vectorise
            u2_32_sub = u2_32[start:stop]
            for k in range(n):
                ybuf[k] = ((np.float32(r_sub[k]) - half) * u2_32_sub[k]) - low
            least = bits[0]
            for k in range(n):
                least = min(least, bits[k])
            if least >= limit_bits:
                continue
            for k in range(n):
                if bits[k] >= limit_bits:
                    continue
                h = start + k
                half_v = row[h] - 0.5
                e = abs(half_v * u2[h] - w_o)
                uh = u[h]
                if uh > 0:
                    s = 0
                elif uh < 0 and sides > 1:
                    s = 1
                else:
                    continue
                if first:
                    if e > eta or found[o, s]:
                        continue
                    if unit[o, s, 0] != NONE and first_unit + h >= unit[o, s, 0]:
                        continue
                    found[o, s] = True
                elif not e < error[o, s, 0]:
                    continue
                error[o, s, 0] = e
                unit[o, s, 0] = first_unit + h
                kept_u[o, s, 0] = uh
                kept_v[o, s, 0] = 2.0 * half_v


def matching_block(r, block, u, w, first_unit, sides, first, eta, subchunk, error, unit, kept_u, kept_v, found):
    """Rule "matching" on rows ``block``: ``v = 2 r - 1`` is exact, so the raw ``r`` are filtered
    loosely against both tails and the few left tested exactly (scan._matching_block)."""
    size = u.size
    threshold = 1.0 - eta / 2
    high = (1.0 + threshold) / 2 - 1e-12
    low = (1.0 - threshold) / 2 + 1e-12
    half_eta = eta / 2
    for i in range(block.size):
        o = block[i]
        w_o = w[o]
        sign_w = 1.0 if w_o >= 0 else -1.0
        row = r[i]
        for start in range(0, size, subchunk):
            stop = min(start + subchunk, size)
            r_sub = row[start:stop]  # indexed from 0: the counting loop vectorises
            count = 0
            for k in range(stop - start):
                x = r_sub[k]
                count += np.int32(x >= high) + np.int32(x <= low)
            if count == 0:
                continue
            for h in range(start, stop):
                x = row[h]
                if not (x >= high or x <= low):
                    continue
                v = x * 2.0 - 1.0
                uh = u[h]
                sign = 1.0 if uh > 0 else (-1.0 if uh < 0 else 0.0)
                if sign == 0.0 or not (v * sign_w * sign >= threshold):
                    continue
                if sides == 1 and sign < 0:
                    continue
                s = 1 if sign < 0 else 0
                e = abs(v * uh - w_o)
                accepted = abs(abs(uh) - abs(w_o)) <= half_eta
                if first:
                    if not accepted or found[o, s]:
                        continue
                    if unit[o, s, 0] != NONE and first_unit + h >= unit[o, s, 0]:
                        continue
                    found[o, s] = True
                for slot in range(2):  # slot 1: any unit of the tail (the fallback); slot 0: accepted ones
                    if first and slot == 1:
                        continue
                    if slot == 0 and not accepted:
                        continue
                    if not first and not e < error[o, s, slot]:
                        continue
                    error[o, s, slot] = e
                    unit[o, s, slot] = first_unit + h
                    kept_u[o, s, slot] = uh
                    kept_v[o, s, slot] = v


_COMPILED: SimpleNamespace | None = None


def kernels() -> SimpleNamespace:
    """The compiled kernels (``best_block``, ``matching_block``), compiled once per process (cached
    on disk where numba can write its cache; else compiled again in each process). Raises
    ``ImportError`` if numba is not installed."""
    global _COMPILED
    if _COMPILED is None:
        import numba

        def jit(function):
            try:
                return numba.njit(cache=True)(function)
            except RuntimeError:  # no writable cache location (a read-only install): compile each process
                return numba.njit(function)

        _COMPILED = SimpleNamespace(best_block=jit(best_block), matching_block=jit(matching_block))
    return _COMPILED
