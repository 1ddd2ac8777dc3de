"""The layer lemma (docs/theory.md §3): one target layer from two layers of G, all outputs at once.

Layer ``i`` of the target, ``W`` of shape ``(n_out, n_in)``, is spread over ``M_{2i-1}``
(``(n_in k, n_in)``) and ``M_{2i}`` (``(n_out, n_in k)``): block ``j`` is hidden units
``[j k, (j+1) k)``, all reading input coordinate ``j``. For each ``(o, j)`` the weight gadget
(:mod:`stronglth.constructions.malach.gadget`) chooses units of block ``j``; the units are shared between
outputs. The ticket's pre-activation is then

    z(y) = W y + D+ s(y) + D- s(-y),   D+ = A - W,   D- = B + W,
    ||z(y) - W y|| <= c ||y||,          c = ||[D+, D-]||_2,

and ``c = ||D+||_2`` when the input is post-ReLU (``y >= 0``) and the ``N`` half is left out.

G is read as a stream: each block is cut into pieces, each piece scanned chunk by chunk from the
lines of ``M_{2i-1}`` (one column segment) and ``M_{2i}`` (one row segment per output), never as a
dense matrix; pieces run in parallel processes. The choice is the gadget's, exactly: the least
error, ties towards the lowest unit index, whatever the chunking or the number of processes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from stronglth.constructions.malach.gadget import RULES
from stronglth.errors import InvalidInputError
from stronglth.random_network import RandomNetwork, line_bit_generator

__all__ = ["LayerTicket", "WeightFailure", "approximate_layer"]

CHUNK = 32_768
"""Units scanned at once per line: the working set (outputs x chunk floats) stays in cache."""
PIECE = 1 << 22
"""Units per parallel task: blocks longer than this are split so that processes stay balanced."""

_SIDES = (+1, -1)  # P side (u > 0), N side (u < 0)
_NONE = -1


@dataclass(frozen=True)
class WeightFailure:
    """A gadget event that met no acceptable candidate: layer, output ``o``, input ``j``, side
    (``+1``: the ``P`` half, ``u > 0``; ``-1``: the ``N`` half), and the least error found."""

    layer: int
    output: int
    input: int
    side: int
    best_error: float


@dataclass(frozen=True)
class LayerTicket:
    """The result of the layer lemma for layer ``i``.

    ``first`` and ``second``: kept entries ``(rows, cols, vals)`` of ``M_{2i-1}`` and ``M_{2i}``.
    ``d_plus = A - W`` and ``d_minus = B + W`` (``None`` without the ``N`` half); ``constant`` is
    the ``c_i`` of docs/theory.md §3; ``failures`` the events with no acceptable candidate (their best
    candidate, or none, is used in the entries).
    """

    layer: int
    first: tuple[np.ndarray, np.ndarray, np.ndarray]
    second: tuple[np.ndarray, np.ndarray, np.ndarray]
    d_plus: np.ndarray
    d_minus: np.ndarray | None
    constant: float
    failures: tuple[WeightFailure, ...]


# -- scanning one piece of one block ----------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    network: RandomNetwork
    t: int  # odd: M_t holds u (column j), M_{t+1} holds v (row o)
    j: int
    offset: int  # global unit index of the piece's first unit
    length: int
    w: np.ndarray  # (n_out,) the column W[:, j]
    eta: float
    rule: str


class _Best:
    """Per (output, side, slot) the least ``|error|`` seen, ties to the lowest unit index.

    Slot 0 holds candidates the rule accepts; slot 1 (rule "matching") holds the fallback:
    units with ``v`` in the required tail whatever their ``u``.
    """

    def __init__(self, n_out: int):
        shape = (n_out, 2, 2)
        self.error = np.full(shape, np.inf)  # |v u - w|
        self.unit = np.full(shape, _NONE, dtype=np.int64)
        self.u = np.zeros(shape)
        self.v = np.zeros(shape)

    def offer(
        self, o: np.ndarray, side: np.ndarray, slot: int, error: np.ndarray, unit: np.ndarray, u: np.ndarray, v: np.ndarray
    ) -> None:
        """Offer candidates given in increasing unit order (a later one wins only if strictly better)."""
        if o.size == 0:
            return
        side_index = (side < 0).astype(np.int64)
        key = o * 2 + side_index
        order = np.lexsort((unit, error, key))  # by key, then error, then unit
        key, first = key[order], np.ones(order.size, dtype=bool)
        first[1:] = key[1:] != key[:-1]
        pick = order[first]
        o, s = o[pick], side_index[pick]
        better = error[pick] < self.error[o, s, slot]
        o, s, pick = o[better], s[better], pick[better]
        self.error[o, s, slot] = error[pick]
        self.unit[o, s, slot] = unit[pick]
        self.u[o, s, slot] = u[pick]
        self.v[o, s, slot] = v[pick]

    def merge(self, other: _Best) -> None:
        """Combine with the result of a piece of higher unit indices."""
        better = (other.error < self.error) | ((other.error == self.error) & (other.unit < self.unit) & (other.unit != _NONE))
        for name in ("error", "unit", "u", "v"):
            getattr(self, name)[better] = getattr(other, name)[better]


def _scan_piece(piece: _Piece) -> _Best:
    n_out = piece.w.size
    net = piece.network
    best = _Best(n_out)
    u_gen = np.random.Generator(_advanced(net.seed, piece.t, piece.j, piece.offset))
    v_gens = [np.random.Generator(_advanced(net.seed, piece.t + 1, o, piece.offset)) for o in range(n_out)]
    u_buf = np.empty(CHUNK)
    r_buf = np.empty(n_out * CHUNK)
    w = piece.w
    sign_w = np.where(w >= 0, 1.0, -1.0)
    threshold = 1.0 - piece.eta / 2  # |v| >= 1 - eta/2 in the matching event
    for start in range(0, piece.length, CHUNK):
        size = min(CHUNK, piece.length - start)
        u = u_buf[:size]
        u_gen.random(out=u)
        u *= 2.0
        u -= 1.0  # exactly G's values (see random_network.draw_uniform)
        flat = r_buf[: n_out * size]
        r = flat.reshape(n_out, size)  # raw U[0, 1) draws of the v's: v = 2 r - 1
        for row in range(n_out):
            v_gens[row].random(out=r[row])
        first_unit = piece.offset + start
        if piece.rule == "best":
            v = r * 2.0 - 1.0
            error = np.abs(v * u - w[:, None])
            for side in _SIDES:
                masked = np.where(np.sign(u) == side, error, np.inf)
                h = masked.argmin(axis=1)
                rows = np.arange(n_out)
                ok = np.isfinite(masked[rows, h])
                best.offer(
                    rows[ok], np.full(ok.sum(), side), 0, masked[rows, h][ok], first_unit + h[ok], u[h[ok]], v[rows, h][ok]
                )
        else:
            # v = 2 r - 1 is exact, so filter the raw r loosely (one flat pass per tail, the
            # dominant cost after generation) and test v exactly on the few left
            index = np.concatenate(
                (np.flatnonzero(flat >= (1.0 + threshold) / 2 - 1e-12), np.flatnonzero(flat <= (1.0 - threshold) / 2 + 1e-12))
            )
            o, h = np.divmod(index, size)
            v = flat[index] * 2.0 - 1.0
            uh = u[h]
            signs = np.sign(uh)
            tail = (signs != 0) & (v * sign_w[o] * signs >= threshold)
            o, h, v, uh, signs = o[tail], h[tail], v[tail], uh[tail], signs[tail]
            error = np.abs(v * uh - w[o])
            accepted = np.abs(np.abs(uh) - np.abs(w[o])) <= piece.eta / 2
            best.offer(o, signs, 1, error, first_unit + h, uh, v)
            best.offer(o[accepted], signs[accepted], 0, error[accepted], first_unit + h[accepted], uh[accepted], v[accepted])
    return best


def _advanced(seed: int, t: int, line: int, offset: int) -> np.random.PCG64:
    bit_generator = line_bit_generator(seed, t, line)
    bit_generator.advance(offset)
    return bit_generator


# -- the layer ---------------------------------------------------------------------------------


def _pieces(network: RandomNetwork, layer: int, weights: np.ndarray, k: int, eta: float, rule: str) -> Iterator[_Piece]:
    t = 2 * layer - 1
    n_in = weights.shape[1]
    n_pieces = max(1, math.ceil(k / PIECE))
    size = math.ceil(k / n_pieces)
    for j in range(n_in):
        for start in range(0, k, size):
            yield _Piece(network, t, j, j * k + start, min(size, k - start), np.ascontiguousarray(weights[:, j]), eta, rule)


def approximate_layer(
    network: RandomNetwork,
    layer: int,
    weights: np.ndarray,
    *,
    block_size: int,
    eta: float,
    rule: str = "best",
    negative_half: bool = True,
    executor: ProcessPoolExecutor | None = None,
    progress=None,
) -> LayerTicket:
    """Apply the weight gadget to every ``(o, j)`` of layer ``layer`` (1-based) at once
    (docs/theory.md §3), reading ``M_{2i-1}`` and ``M_{2i}`` of ``network`` as streams.

    Args:
        weights: the target layer ``W_i``, shape ``(n_out, n_in)``.
        block_size: ``k_i``, the units per input coordinate (``network`` must have been built with it).
        eta: the per-weight tolerance ``eta_i``; an event whose least error exceeds it (rule
            ``"best"``), or that has no unit in the sufficient event (rule ``"matching"``), is
            reported in ``failures`` and filled with the best unit found (or none).
        negative_half: keep the ``N`` side (needed in layer 1 only: later inputs are post-ReLU).
        executor: a process pool to scan pieces in parallel; ``None`` scans in this process.
        progress: an object with ``update(n)`` (e.g. tqdm) advanced by the units scanned.
    """
    if rule not in RULES:
        raise InvalidInputError(f"unknown rule {rule!r}; choose one of {RULES}")
    n_out, n_in = weights.shape
    t = 2 * layer - 1
    if network.shapes[t - 1] != (n_in * block_size, n_in) or network.shapes[t] != (n_out, n_in * block_size):
        raise InvalidInputError(
            f"layer {layer}: G has shapes {network.shapes[t - 1]}, {network.shapes[t]} but W {weights.shape}"
            f" with block size {block_size} needs {(n_in * block_size, n_in)}, {(n_out, n_in * block_size)}"
        )
    pieces = list(_pieces(network, layer, weights, block_size, eta, rule))
    results = executor.map(_scan_piece, pieces) if executor is not None else map(_scan_piece, pieces)
    per_input = [_Best(n_out) for _ in range(n_in)]
    for piece, found in zip(pieces, results, strict=False):
        per_input[piece.j].merge(found)
        if progress is not None:
            progress.update(piece.length * (n_out + 1))
    return _assemble(layer, weights, per_input, eta, rule, negative_half)


def _assemble(layer: int, weights: np.ndarray, per_input: list[_Best], eta: float, rule: str, negative_half: bool) -> LayerTicket:
    n_out, n_in = weights.shape
    d_plus = np.empty((n_out, n_in))
    d_minus = np.empty((n_out, n_in)) if negative_half else None
    first: dict[int, tuple[int, float]] = {}  # unit -> (input j, u)
    second: list[tuple[int, int, float]] = []  # (o, unit, v)
    failures = []
    sides = _SIDES if negative_half else _SIDES[:1]
    for j, best in enumerate(per_input):
        for o in range(n_out):
            w = weights[o, j]
            for s_index, side in enumerate(sides):
                error, unit, u, v = (getattr(best, name)[o, s_index, 0] for name in ("error", "unit", "u", "v"))
                if rule == "best":
                    if unit == _NONE or abs(w) <= error:
                        unit = _NONE  # no unit is at least as good (the gadget's rule)
                    accepted = (abs(w) if unit == _NONE else error) <= eta
                else:
                    accepted = unit != _NONE
                    if not accepted:  # best effort: the better of the fallback unit and no unit
                        error, unit, u, v = (getattr(best, name)[o, s_index, 1] for name in ("error", "unit", "u", "v"))
                        if unit == _NONE or abs(w) <= error:
                            unit = _NONE
                if unit == _NONE:
                    signed = -side * w
                else:
                    signed = side * (v * u - w)  # P: A - w = v u - w; N: B + w = v |u| + w
                    first[int(unit)] = (j, float(u))
                    second.append((o, int(unit), float(v)))
                if not accepted:
                    failures.append(WeightFailure(layer, o, j, side, float(abs(signed))))
                half = d_plus if side > 0 else d_minus
                assert half is not None  # the N side (-1) is in `sides` only when the N half is kept
                half[o, j] = signed
    units = np.array(sorted(first), dtype=np.int64)
    first_entries = (
        units,
        np.array([first[h][0] for h in units], dtype=np.int64),
        np.array([first[h][1] for h in units], dtype=np.float64),
    )
    second_entries = (
        np.array([e[0] for e in second], dtype=np.int64),
        np.array([e[1] for e in second], dtype=np.int64),
        np.array([e[2] for e in second], dtype=np.float64),
    )
    # layer 1 reads x, which may be negative: c = ||[D+, D-]||; later layers read y = s(.) >= 0,
    # where s(-y) = 0 and c = ||D+|| is the whole story even if the N half is kept
    if layer == 1:  # without the N half, B = 0 and D- = W: negative inputs are simply lost
        blocks = np.hstack((d_plus, d_minus if d_minus is not None else weights))
    else:
        blocks = d_plus
    constant = float(np.linalg.norm(blocks, 2))
    return LayerTicket(layer, first_entries, second_entries, d_plus, d_minus, constant, tuple(failures))
