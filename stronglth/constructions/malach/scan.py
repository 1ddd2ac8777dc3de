"""The fused chunked scan of one piece of one block of G (the layer lemma's inner loop, docs/theory.md §3, §11).

A *piece* is a run of units ``[offset, offset + length)`` of block ``j`` of layer ``i``: their
first-layer weights ``u`` (one segment of column ``j`` of ``M_{2i-1}``) and, for every output
``o``, their second-layer weights ``v`` (one segment of row ``o`` of ``M_{2i}``). The scan reads
them chunk by chunk, a few rows at a time, straight from the generators into two reused buffers,
and keeps per event ``(o, side)`` the candidate the rule and the selection ask for:

- rule ``"best"``: the error of every unit is computed in place as ``|v u - w|`` with the very
  float operations of the weight gadget (``v u`` as ``(r - 1/2)(2 u)``, exact since ``r - 1/2 =
  v/2`` and ``2 u`` are exact), one minimum per sub-chunk of :data:`SUBCHUNK` units tells which
  sub-chunks can hold a better unit (or, for ``selection="first"``, one within ``eta``), and only
  those are searched side by side;
- rule ``"matching"``: the raw uniforms of ``v`` are filtered in place against the tails
  ``|v| >= 1 - eta/2`` and only the few left are tested exactly.

``selection="best"`` keeps the least error, ties to the lowest unit index (the gadget's choice,
bit for bit, whatever the chunking); ``selection="first"`` keeps the first acceptable unit in
unit order and stops reading a row once all its events have one. Nothing here depends on the
number of processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stronglth.random_network import RandomNetwork, line_bit_generator

__all__ = ["Piece", "Candidates", "scan_piece", "SELECTIONS", "CHUNK", "FIRST_CHUNK", "SUBCHUNK", "NONE"]

SELECTIONS = ("best", "first")
CHUNK = 32_768
"""The most units read at once per line."""
FIRST_CHUNK = 256
"""The first chunk of a piece (chunks then double up to :data:`CHUNK`): the best rule's early,
record-setting part of a block stays small."""
FIRST_CHUNK_FIRST = 64
"""The first chunk under ``selection="first"``: a row is read at most to the end of the chunk that
holds its hit, so doubling from here reads at most about twice what the hits need."""
SUBCHUNK = 256
"""Units per sub-chunk whose least error decides whether the best rule searches it."""
BLOCK_VALUES = 1 << 17
"""Values (rows x units) the best rule processes at once: its two buffers stay near the second-level cache."""
MATCHING_BLOCK_VALUES = 1 << 20
"""Values (rows x units) the matching rule filters at once (one flat pass per tail; 8 MiB)."""
NONE = -1


@dataclass(frozen=True)
class Piece:
    """Units ``[offset, offset + length)`` of block ``j`` (``t`` odd: ``M_t`` holds ``u``, ``M_{t+1}``
    holds ``v``), the block's column ``w = W[:, j]``, the tolerance, rule, selection, the sides
    kept (1: ``P`` only; 2: ``P`` and ``N``) and the outputs to read (``None``: all)."""

    network: RandomNetwork
    t: int
    j: int
    offset: int
    length: int
    w: np.ndarray
    eta: float
    rule: str
    selection: str = "best"
    sides: int = 2
    rows: np.ndarray | None = None


class Candidates:
    """Per (output, side, slot) the kept candidate: ``error = |v u - w|``, global ``unit`` index
    (``NONE``: none yet), its ``u`` and ``v``. Slot 0 holds candidates the rule accepts (rule
    ``"best"``: any unit); slot 1 (rule ``"matching"``, ``selection="best"``) the fallback of a
    failed event: the best unit with ``v`` in the required tail. ``found`` marks the events closed
    by ``selection="first"``; ``values_read`` counts the values of G generated."""

    def __init__(self, n_out: int):
        shape = (n_out, 2, 2)
        self.error = np.full(shape, np.inf)
        self.unit = np.full(shape, NONE, dtype=np.int64)
        self.u = np.zeros(shape)
        self.v = np.zeros(shape)
        self.found = np.zeros((n_out, 2), dtype=bool)
        self.values_read = 0

    def offer(
        self, o: np.ndarray, s: np.ndarray, slot: int, error: np.ndarray, unit: np.ndarray, u: np.ndarray, v: np.ndarray,
        *, by_unit: bool = False,
    ) -> np.ndarray:  # fmt: skip
        """Per ``(o, s)`` (``s``: 0 for ``P``, 1 for ``N``) the candidate of least error (``by_unit``:
        of least unit, for ``selection="first"``), then least unit, replaces the kept one if that
        key is strictly less. Returns the ``(o, s)`` pairs that changed, as ``o * 2 + s``."""
        if o.size == 0:
            return np.zeros(0, dtype=np.int64)
        pair = o * 2 + s
        key = unit if by_unit else error
        order = np.lexsort((unit, key, pair))
        pair = pair[order]
        first = np.ones(order.size, dtype=bool)
        first[1:] = pair[1:] != pair[:-1]
        pick = order[first]
        o, s = o[pick], s[pick]
        if by_unit:
            kept = self.unit[o, s, slot]
            better = (kept == NONE) | (unit[pick] < kept)
        else:
            better = error[pick] < self.error[o, s, slot]
        o, s, pick = o[better], s[better], pick[better]
        self.error[o, s, slot] = error[pick]
        self.unit[o, s, slot] = unit[pick]
        self.u[o, s, slot] = u[pick]
        self.v[o, s, slot] = v[pick]
        return o * 2 + s

    def merge(self, other: Candidates) -> None:
        """Combine with the result of a piece of higher unit indices (least error, ties to the lower unit)."""
        better = (other.error < self.error) | ((other.error == self.error) & (other.unit < self.unit) & (other.unit != NONE))
        better &= other.unit != NONE
        for name in ("error", "unit", "u", "v"):
            getattr(self, name)[better] = getattr(other, name)[better]
        self.values_read += other.values_read

    def merge_first(self, other: Candidates) -> None:
        """Combine with the next piece of the block under ``selection="first"``: its finds fill the
        events still open (it read only those)."""
        fill = other.found & ~self.found
        for name in ("error", "unit", "u", "v"):
            getattr(self, name)[:, :, 0][fill] = getattr(other, name)[:, :, 0][fill]
        self.found |= fill
        self.values_read += other.values_read


def _chunks(length: int, first: int):
    start, size = 0, min(first, CHUNK)
    while start < length:
        n = min(size, length - start)
        yield start, n
        start += n
        size = min(CHUNK, 2 * size)


def _generator(seed: int, t: int, line: int, offset: int) -> np.random.Generator:
    bit_generator = line_bit_generator(seed, t, line)
    bit_generator.advance(offset)
    return np.random.Generator(bit_generator)


def scan_piece(piece: Piece) -> Candidates:
    """Scan one piece (module docstring); the result is merged by the layer across pieces."""
    n_out = piece.w.size
    found = Candidates(n_out)
    rows = np.arange(n_out) if piece.rows is None else np.asarray(piece.rows, dtype=np.int64)
    first = piece.selection == "first"
    if first and piece.rule == "best":
        rows = rows[np.abs(piece.w[rows]) > piece.eta]  # an empty side is acceptable: nothing to read
    if rows.size == 0:
        return found
    net = piece.network
    u_gen = _generator(net.seed, piece.t, piece.j, piece.offset)
    v_gens = {int(o): _generator(net.seed, piece.t + 1, int(o), piece.offset) for o in rows}
    u_buf = np.empty(CHUNK)
    raw = np.empty(max(BLOCK_VALUES if piece.rule == "best" else MATCHING_BLOCK_VALUES, CHUNK))
    rows_at_most = raw.size // min(FIRST_CHUNK, FIRST_CHUNK_FIRST, CHUNK) + 1
    work = np.empty(raw.size + SUBCHUNK * rows_at_most if piece.rule == "best" else 0, dtype=np.float32)  # room for padded rows
    scan_block = _best_block if piece.rule == "best" else _matching_block
    for start, size in _chunks(piece.length, FIRST_CHUNK_FIRST if first else FIRST_CHUNK):
        u = u_buf[:size]
        u_gen.random(out=u)
        u *= 2.0
        u -= 1.0  # exactly G's values (random_network.draw_uniform)
        found.values_read += size
        context = _ChunkContext(piece, u, piece.offset + start, found, rows)
        height = max(1, raw.size // size)
        for b in range(0, rows.size, height):
            block = rows[b : b + height]
            r = raw[: block.size * size].reshape(block.size, size)
            for i, o in enumerate(block.tolist()):
                v_gens[o].random(out=r[i])
            found.values_read += r.size
            scan_block(context, found, block, slice(b, b + block.size), r, work)
        if piece.rule == "best":
            _best_hot(context, found)
        if first:
            open_rows = ~found.found[rows, : piece.sides].all(axis=1)
            rows = rows[open_rows]
            if rows.size == 0:
                break
    return found


class _ChunkContext:
    """What every row block of one chunk shares: the chunk's ``u``, its side masks, sub-chunk starts."""

    def __init__(self, piece: Piece, u: np.ndarray, first_unit: int, found: Candidates, rows: np.ndarray):
        self.piece = piece
        self.u = u
        self.first_unit = first_unit
        self.hot: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # units set aside by _best_block
        if piece.rule == "best":  # what _best_block needs: its window per row (rows[i] for i), fixed for the chunk
            self.u2 = u * 2.0  # exact
            self.u2_32 = self.u2.astype(np.float32)
            self.sub_starts = np.arange(0, u.size, SUBCHUNK)
            self.padded = self.sub_starts.size * SUBCHUNK
            w = piece.w[rows]
            if piece.selection == "first":
                limit = np.full(rows.size, piece.eta)
            else:
                limit = np.minimum(found.error[rows, : piece.sides, 0], np.abs(w)[:, None]).max(axis=1)
            margin = 1e-6 * (1.0 + np.abs(w))
            self.lower = (w - limit - margin).astype(np.float32)[:, None]
            self.top = (2.0 * (limit + margin)).astype(np.float32).view(np.uint32)[:, None]


def _best_block(c: _ChunkContext, found: Candidates, block: np.ndarray, at: slice, r: np.ndarray, work: np.ndarray) -> None:
    """Rule "best" on rows ``block`` of one chunk: ``r`` holds the raw uniforms of their ``v``.

    A unit can change the outcome only if its error is below a per-row limit ``L`` (``selection
    ="best"``: the larger over the sides of the kept error capped at ``|w|``, which no unit beats
    by being worse; ``"first"``: ``eta``). The filter computes ``y = v u - (w - L - s)`` for every
    unit in float32 (``s = 1e-6 (1 + |w|)``, four times the worst float32 rounding of ``y``, so
    no unit within ``L`` is missed) and compares each sub-chunk's least *non-negative* ``y`` with
    ``2 (L + s)``: it reads the float bits as integers, where a negative float (sign bit set)
    exceeds every non-negative one. Four cheap passes and one reduction; only the sub-chunks that
    pass are searched, with the exact float64 errors of the weight gadget."""
    size, padded = c.u.size, c.padded
    y = work[: r.shape[0] * padded].reshape(r.shape[0], padded)
    body = y[:, :size]
    np.copyto(body, r, casting="same_kind")
    body -= np.float32(0.5)  # about v / 2
    np.multiply(body, c.u2_32, out=body)  # about v u
    np.subtract(body, c.lower[at], out=body)
    if padded > size:  # the last, shorter chunk of a piece: never a unit past its end
        y[:, size:] = np.inf
    bits = y.view(np.uint32)
    least = np.minimum.reduceat(bits, c.sub_starts, axis=1)
    top = c.top[at]
    hot_row, hot_sub = np.nonzero(least < top)
    if hot_row.size == 0:
        return
    # in the sub-chunks that pass, the units that pass (a handful): their rows, units and raw draws
    per_row = padded // SUBCHUNK
    candidates = np.take(bits.reshape(-1, SUBCHUNK), hot_row * per_row + hot_sub, axis=0, mode="clip")
    i, col = np.nonzero(candidates < top[hot_row])
    row = hot_row[i]
    h = hot_sub[i] * SUBCHUNK + col
    c.hot.append((block[row], h, r[row, h]))


def _best_hot(c: _ChunkContext, found: Candidates) -> None:
    """The exact errors of the units :func:`_best_block` set aside during one chunk, offered at once."""
    if not c.hot:
        return
    piece = c.piece
    o, h, raw = (np.concatenate(parts) for parts in zip(*c.hot, strict=True))
    c.hot.clear()
    half_v = raw - 0.5  # v / 2, exactly
    error = np.abs(half_v * c.u2[h] - piece.w[o])  # fl(v u) - w: bit for bit the weight gadget's error
    u = c.u[h]
    for s, on_side in enumerate((u > 0, u < 0)[: piece.sides]):
        if piece.selection == "first":
            on_side &= error <= piece.eta
            on_side &= ~found.found[o, s]
        args = (
            o[on_side],
            np.full(int(on_side.sum()), s),
            0,
            error[on_side],
            c.first_unit + h[on_side],
            u[on_side],
            2.0 * half_v[on_side],
        )
        changed = found.offer(*args, by_unit=piece.selection == "first")
        if piece.selection == "first":
            found.found[changed // 2, changed % 2] = True


def _matching_block(
    c: _ChunkContext, found: Candidates, block: np.ndarray, at: slice, r: np.ndarray, scratch: np.ndarray
) -> None:
    """Rule "matching" on rows ``block`` of one chunk: ``v = 2 r - 1`` is exact, so the raw ``r``
    are filtered loosely against the two tails (one flat pass each) and the few left tested exactly."""
    piece = c.piece
    w = piece.w[block]
    sign_w = np.where(w >= 0, 1.0, -1.0)
    threshold = 1.0 - piece.eta / 2  # |v| >= 1 - eta/2 in the matching event
    flat = r.reshape(-1)
    size = c.u.size
    index = np.concatenate(
        (np.flatnonzero(flat >= (1.0 + threshold) / 2 - 1e-12), np.flatnonzero(flat <= (1.0 - threshold) / 2 + 1e-12))
    )
    row, h = np.divmod(index, size)
    v = flat[index] * 2.0 - 1.0
    uh = c.u[h]
    signs = np.sign(uh)
    tail = (signs != 0) & (v * sign_w[row] * signs >= threshold)
    if piece.sides == 1:
        tail &= signs > 0
    row, h, v, uh, signs = row[tail], h[tail], v[tail], uh[tail], signs[tail]
    o = block[row]
    s = (signs < 0).astype(np.int64)
    error = np.abs(v * uh - w[row])
    unit = c.first_unit + h
    accepted = np.abs(np.abs(uh) - np.abs(w[row])) <= piece.eta / 2
    if piece.selection == "first":
        a = accepted & ~found.found[o, s]
        changed = found.offer(o[a], s[a], 0, error[a], unit[a], uh[a], v[a], by_unit=True)
        found.found[changed // 2, changed % 2] = True
        return
    found.offer(o, s, 1, error, unit, uh, v)
    found.offer(o[accepted], s[accepted], 0, error[accepted], unit[accepted], uh[accepted], v[accepted])
