"""The value streams of G's lines (docs/theory.md §7, §12): one PCG64 bit generator per weight line
and per bias line, values drawn from raw 64-bit outputs, and the run-drawing of scattered entries
that :meth:`stronglth.RandomNetwork.values_at` and :meth:`~stronglth.RandomNetwork.bias_values_at` use.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from stronglth.distributions import UNIFORM, Distribution

_RUNS_PER_CHUNK = 65_536
"""In :meth:`RandomNetwork.values_at`, runs are visited in chunks of this many (bounded Python objects)."""
_DRAW_THROUGH = 64
"""In :meth:`RandomNetwork.values_at`, requested offsets at most this far apart are drawn as one run."""
_RUN_BLOCK = 65_536
"""In :meth:`RandomNetwork.values_at`, no run crosses a multiple of this offset (bounded buffers)."""


def line_bit_generator(seed: int, t: int, line: int) -> np.random.PCG64:
    """The PCG64 bit generator of line ``line`` of ``M_t`` (1-based ``t``), at offset 0."""
    return np.random.PCG64(np.random.SeedSequence([seed, t, line]))


def bias_bit_generator(seed: int, t: int) -> np.random.PCG64:
    """The PCG64 bit generator of the bias line of ``M_t`` (1-based ``t``), at offset 0: the seed
    sequence of weight line 0 with ``spawn_key=(1,)``, a stream distinct from every weight line."""
    return np.random.PCG64(np.random.SeedSequence([seed, t, 0], spawn_key=(1,)))


def draw_uniform(bit_generator: np.random.PCG64, size: int, out: np.ndarray | None = None) -> np.ndarray:
    """The next ``size`` values of ``Generator(bit_generator).uniform(-1.0, 1.0, size)``.

    Computed as ``2 u - 1`` from ``Generator.random`` into a reusable buffer: numpy's
    ``uniform(low, high)`` is ``low + (high - low) * u`` with the same 53-bit ``u``, one 64-bit draw
    per value, and ``2 u`` is exact, so the result is identical bit for bit (tested), at about
    half the cost.
    """
    out = np.empty(size, dtype=np.float64) if out is None else out[:size]
    np.random.Generator(bit_generator).random(out=out)
    out *= 2.0
    out -= 1.0
    return out


def draw(distribution: Distribution, bit_generator: np.random.PCG64, size: int, out: np.ndarray | None) -> np.ndarray:
    """The next ``size`` values of a line of ``distribution`` (one 64-bit draw each)."""
    if distribution.name == UNIFORM:
        return draw_uniform(bit_generator, size, out)
    values = distribution.from_raw(bit_generator.random_raw(size))
    if out is None:
        return values
    out[:size] = values
    return out[:size]


def raw_at(make: Callable[[int], np.random.PCG64], lines: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The raw 64-bit draws at sorted, distinct ``(lines[i], offsets[i])``; ``make(line)`` gives a
    line's bit generator at offset 0. Runs are drawn as :meth:`RandomNetwork.values_at` says."""
    new_line = np.ones(lines.size, dtype=bool)
    new_line[1:] = lines[1:] != lines[:-1]
    run_start = new_line.copy()
    run_start[1:] |= (offsets[1:] - offsets[:-1] > _DRAW_THROUGH) | (offsets[1:] // _RUN_BLOCK != offsets[:-1] // _RUN_BLOCK)
    starts = np.flatnonzero(run_start)
    ends = np.append(starts[1:], lines.size)
    raw = np.empty(lines.size, dtype=np.uint64)
    bit_generator, position = None, 0
    for c in range(0, starts.size, _RUNS_PER_CHUNK):  # Python ints for a chunk of runs at a time
        chunk = starts[c : c + _RUNS_PER_CHUNK]
        stops = ends[c : c + chunk.size]
        columns = (chunk, stops, new_line[chunk], lines[chunk], offsets[chunk], offsets[stops - 1])
        for r0, r1, fresh, line, first, last in zip(*(a.tolist() for a in columns), strict=True):
            if fresh or bit_generator is None:
                bit_generator, position = make(line), 0
            if first > position:
                bit_generator.advance(first - position)
            if r1 - r0 == 1:
                raw[r0] = bit_generator.random_raw()
            elif last - first + 1 == r1 - r0:  # adjacent offsets: every value drawn is wanted
                raw[r0:r1] = bit_generator.random_raw(r1 - r0)
            else:
                raw[r0:r1] = bit_generator.random_raw(last - first + 1)[offsets[r0:r1] - first]
            position = last + 1
    return raw


def distinct_sorted(lines: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(order, distinct, lines, offsets)``: the sort order by (line, offset), which sorted entries
    are new, and the distinct sorted lines and offsets."""
    order = np.lexsort((offsets, lines))
    lines, offsets = lines[order], offsets[order]
    distinct = np.ones(lines.size, dtype=bool)
    distinct[1:] = (lines[1:] != lines[:-1]) | (offsets[1:] != offsets[:-1])
    return order, distinct, lines[distinct], offsets[distinct]
