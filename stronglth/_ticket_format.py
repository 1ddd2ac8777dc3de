"""The rules of the ticket file formats "stronglth-ticket/1", "/2" and "/3" (the README's "Ticket
files"): meta fields, keys, dtypes and shapes; the writer's contents and the bounded reader's checks
(docs/theory.md §7, §12, §14.6). :mod:`stronglth._npz` opens the archive; this module says what it must hold.

A ticket without kept biases, without output scale, whose G is generator "pcg64-seedseq-v1" of depth
``2l`` and whose target (if any) has no bias is written as format /1, byte for byte as before format
/2 existed.
Anything else is format /2: meta adds ``distributions`` and ``biases`` (G's specs, one per matrix),
generator "pcg64-seedseq-v2" and, when it is not 1, ``output_scale``; arrays add ``bias_rows_t`` and
``bias_vals_t`` for each ``t`` where G has a bias line, and ``target_bias_i`` for each target layer
with a bias.
A ticket whose G or target has a leaky ReLU (``negative_slope`` ``a != 0``, docs/theory.md §14.6) is
format /3: format /2 plus two 0-d float64 arrays, ``negative_slope`` (G's slope) and, when the ticket
stores a target, ``target_negative_slope`` (the target's), each ``0 <= a < 1``. A ticket with both
slopes 0 is never written as /3, so /1 and /2 files are the bytes they always were. Readers accept all three.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stronglth import _validate
from stronglth._npz import MAX_META_CHARS, MAX_META_DEPTH, NpzReader, json_depth, parse_json
from stronglth.errors import InvalidInputError, TooLargeError
from stronglth.random_network import GENERATOR, GENERATOR_V2, MAX_MATRICES, RandomNetwork

__all__ = ["TICKET_FORMAT", "TICKET_FORMAT_V2", "TICKET_FORMAT_V3", "TICKET_FORMATS", "META_REQUIRED", "META_REQUIRED_V2"]
__all__ += ["META_RESERVED", "SLOPE_KEYS"]
__all__ += ["meta_field_problem", "check_ticket_meta", "disorder", "TicketFile", "read_ticket_file", "file_contents"]

TICKET_FORMAT = "stronglth-ticket/1"
TICKET_FORMAT_V2 = "stronglth-ticket/2"
TICKET_FORMAT_V3 = "stronglth-ticket/3"
TICKET_FORMATS = (TICKET_FORMAT, TICKET_FORMAT_V2, TICKET_FORMAT_V3)
META_REQUIRED = ("format", "generator", "seed", "shapes", "method", "eps", "delta", "certified_error")
"""The fields a reader needs; ``version`` (the writer's package version) and everything else are
provenance, kept in ``ticket.meta`` but not required (a ticket written by another tool loads)."""
META_REQUIRED_V2 = META_REQUIRED + ("distributions", "biases")
"""Formats /2 and /3 need G's specs too (``output_scale`` is optional: 1 when absent)."""
SLOPE_KEYS = ("negative_slope", "target_negative_slope")
"""Format /3's arrays: G's slope, and the stored target's (only when the ticket stores a target)."""
_V2_ONLY = ("distributions", "biases", "output_scale")
META_RESERVED = frozenset(META_REQUIRED) - {"method", "eps", "delta"} | {"target_depth", "version", *_V2_ONLY, *SLOPE_KEYS}
"""Fields the writer sets from the ticket itself, so not to be given in ``Ticket(meta=...)``."""
_INDEX, _VALUE = np.dtype("<i8"), np.dtype("<f8")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _as_float(value: Any) -> float:
    """A real number (not a bool) as a float, NaN for anything else, infinity past float's range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return math.nan
    try:
        return float(value)
    except OverflowError:  # an int beyond 1.8e308
        return math.inf


def meta_field_problem(key: str, value: Any) -> str | None:
    """Why ``value`` is not allowed as meta field ``key`` (``method``, ``eps``, ``delta``,
    ``certified_error``, ``version``, ``output_scale``), or ``None`` when it is."""
    if key == "version":
        return None if isinstance(value, str) else f"version must be a string when present, got {_short(value)}"
    if key == "method":
        return None if value is None or isinstance(value, str) else f"method must be a string or None (null), got {_short(value)}"
    if key == "output_scale":
        x = _as_float(value)
        return None if math.isfinite(x) and x > 0 else f"output_scale must be a finite number > 0, got {_short(value)}"
    if value is None:
        return None
    allowed = {"eps": "a finite number > 0", "delta": "a number in (0, 1)", "certified_error": "a finite number >= 0"}[key]
    x = _as_float(value)
    if not math.isfinite(x):
        return f"{key} must be None (null) or {allowed}, got {_short(value)} ({type(value).__name__})"
    ok = {"eps": x > 0, "delta": 0 < x < 1, "certified_error": x >= 0}[key]
    return None if ok else f"{key} must be None (null) or {allowed}, got {_short(value)}"


def check_ticket_meta(meta: Any) -> dict[str, Any]:
    """``Ticket(meta=...)`` as a dict a ticket file can hold, else an InvalidInputError: string keys,
    none of :data:`META_RESERVED`, the fields of :func:`meta_field_problem` right, JSON within the limits."""
    if meta is None:
        return {}
    if not isinstance(meta, Mapping):
        raise InvalidInputError(f"ticket meta must be a mapping (a dict), got {type(meta).__name__}")
    meta = dict(meta)
    for key, value in meta.items():
        if not isinstance(key, str):
            raise InvalidInputError(f"ticket meta keys must be strings, got {_short(key)}")
        if key in META_RESERVED:
            raise InvalidInputError(f"ticket meta key {key!r} is set from the ticket itself when saved; choose another name")
        if key in ("method", "eps", "delta") and (problem := meta_field_problem(key, value)) is not None:
            raise InvalidInputError(f"ticket meta: {problem}")
    try:
        json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidInputError(f"ticket meta must be JSON-serialisable: {exc}") from None
    if (depth := json_depth(meta)) > MAX_META_DEPTH:
        raise InvalidInputError(f"ticket meta nests {depth} levels deep; a ticket file allows {MAX_META_DEPTH}")
    return meta


def disorder(rows: np.ndarray, cols: np.ndarray) -> int | None:
    """The first ``i`` where position ``i + 1`` does not come after position ``i`` in (row, col)
    order (the same, or before it), or ``None`` when they are sorted with none twice."""
    if rows.size < 2:
        return None
    later = (rows[1:] > rows[:-1]) | ((rows[1:] == rows[:-1]) & (cols[1:] > cols[:-1]))
    return None if later.all() else int(np.argmin(later))


# -- writing ----------------------------------------------------------------------------------------


def file_contents(
    network: RandomNetwork,
    entries: Any,
    bias_entries: Any,
    target: Any,
    certified_error: float | None,
    output_scale: float,
    own: dict[str, Any],
    version: str,
) -> dict[str, np.ndarray]:
    """The arrays of a ticket file, ``meta`` first, in the order ``numpy.savez`` writes them (so the
    same ticket gives the same bytes): format /1 or /3 when the module docstring says so, else /2."""
    kept_biases = any(len(b) for b in bias_entries)
    v3 = network.negative_slope != 0.0 or (target is not None and target.negative_slope != 0.0)
    v2 = not network.is_v1 or network.depth % 2 == 1 or kept_biases or output_scale != 1.0
    v2 = v2 or (target is not None and target.has_biases) or v3
    meta: dict[str, Any] = {
        "format": TICKET_FORMAT_V3 if v3 else TICKET_FORMAT_V2 if v2 else TICKET_FORMAT,
        "generator": GENERATOR_V2 if v2 else GENERATOR,
        "seed": network.seed,
        "shapes": [list(s) for s in network.shapes],
    }
    if v2:
        meta["distributions"] = list(network.distributions)
        meta["biases"] = list(network.biases)
    meta |= {
        "method": own.get("method"),
        "eps": own.get("eps"),
        "delta": own.get("delta"),
        "certified_error": certified_error,
        "version": version,
        "target_depth": 0 if target is None else target.depth,
    }
    if output_scale != 1.0:
        meta["output_scale"] = output_scale
    meta |= {k: v for k, v in own.items() if k not in ("method", "eps", "delta")}
    text = json.dumps(meta, allow_nan=False)
    if len(text) > MAX_META_CHARS:
        raise TooLargeError(f"the ticket's meta is {len(text):,} characters of JSON; a ticket file allows {MAX_META_CHARS:,}")
    arrays: dict[str, np.ndarray] = {"meta": np.array(text)}
    for t, (e, b) in enumerate(zip(entries, bias_entries, strict=True), start=1):
        arrays[f"rows_{t}"], arrays[f"cols_{t}"], arrays[f"vals_{t}"] = e.rows, e.cols, e.vals
        if network.biases[t - 1] is not None:
            arrays[f"bias_rows_{t}"], arrays[f"bias_vals_{t}"] = b.rows, b.vals
    if target is not None:
        for i, w in enumerate(target.weights, start=1):
            arrays[f"target_{i}"] = w
        for i, (bias, given) in enumerate(zip(target.biases, target.bias_layers, strict=True), start=1):
            if given:
                arrays[f"target_bias_{i}"] = bias
    if v3:
        arrays["negative_slope"] = np.array(network.negative_slope, dtype=_VALUE)
        if target is not None:
            arrays["target_negative_slope"] = np.array(target.negative_slope, dtype=_VALUE)
    return arrays


# -- reading ----------------------------------------------------------------------------------------


def _check_meta(z: NpzReader) -> dict[str, Any]:
    if "meta" not in z.members:
        raise z.fail("missing key 'meta'")
    dtype, shape = z.header("meta")
    if dtype.kind != "U" or shape != () or dtype.itemsize > 4 * MAX_META_CHARS:
        raise z.fail(f"'meta' must be a 0-d unicode string of at most {MAX_META_CHARS:,} characters (a JSON text), got"
                     f" dtype {dtype}, shape {shape}")  # fmt: skip
    try:
        meta = parse_json(str(z.read("meta")[()]), "'meta'")
    except ValueError as exc:
        raise z.fail(str(exc)) from None
    if not isinstance(meta, dict):
        raise z.fail(f"'meta' is not a JSON object, got {type(meta).__name__}")
    if "format" in meta and meta["format"] not in TICKET_FORMATS:
        readable = ", ".join(map(repr, TICKET_FORMATS))
        raise z.fail(f"unknown format {_short(meta['format'])}; this version reads {readable}")
    v2 = meta.get("format") in (TICKET_FORMAT_V2, TICKET_FORMAT_V3)
    if missing := [k for k in (META_REQUIRED_V2 if v2 else META_REQUIRED) if k not in meta]:
        raise z.fail(f"meta lacks {', '.join(missing)}")
    generator = GENERATOR_V2 if v2 else GENERATOR
    if meta["generator"] != generator:
        raise z.fail(f"unknown generator {_short(meta['generator'])}; format {meta['format']!r} uses {generator!r}")
    if not v2 and (extra := [k for k in _V2_ONLY if k in meta]):
        raise z.fail(f"meta field {extra[0]} belongs to format {TICKET_FORMAT_V2!r} (and /3), not {TICKET_FORMAT!r}")
    seed = meta["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise z.fail(f"meta field seed must be a non-negative integer, got {_short(seed)} ({type(seed).__name__})")
    for key in ("method", "eps", "delta", "certified_error", "version", "output_scale"):
        if key in meta and (problem := meta_field_problem(key, meta[key])) is not None:
            raise z.fail(f"meta field {problem}")
    return meta


def _expect(z: NpzReader, key: str, dtype: np.dtype, ndim: int) -> tuple[int, ...]:
    found, shape = z.header(key)
    if found != dtype:
        raise z.fail(f"{key} must be {dtype.name} ({dtype.str!r}), got {found} ({found.str!r})")
    if len(shape) != ndim:
        raise z.fail(f"{key} must be {ndim}-D, got shape {shape}")
    return shape


@dataclass(frozen=True)
class TicketFile:
    """What a ticket file holds, checked as :func:`read_ticket_file` says."""

    network: RandomNetwork
    entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    bias_entries: list[tuple[np.ndarray, np.ndarray] | None]
    target_weights: list[np.ndarray]
    target_biases: list[np.ndarray | None]
    certified_error: Any
    output_scale: float
    meta: dict[str, Any]
    target_negative_slope: float = 0.0


def _network(z: NpzReader, meta: dict[str, Any], negative_slope: float) -> RandomNetwork:
    """G from meta: shapes and seed; in format /1 of depth ``2l``, in /2 and /3 of any depth and with its
    specs, and the activation read by :func:`_slopes` (0.0 in /1 and /2)."""
    v2 = meta["format"] in (TICKET_FORMAT_V2, TICKET_FORMAT_V3)
    try:
        network = RandomNetwork(meta["shapes"], seed=meta["seed"])
    except InvalidInputError as exc:
        raise z.fail(f"bad shapes in meta: {exc}") from None
    if not v2:
        if network.depth % 2:
            raise z.fail(f"bad shapes in meta: format {TICKET_FORMAT!r} has G of depth 2l, got {network.depth} shapes")
        return network
    try:
        specs = {"distributions": meta["distributions"], "biases": meta["biases"]}
        return RandomNetwork(meta["shapes"], seed=meta["seed"], **specs, negative_slope=negative_slope)
    except InvalidInputError as exc:
        raise z.fail(f"bad distributions or biases in meta: {exc}") from None


def _keys(z: NpzReader, required: set[str], optional: set[str]) -> None:
    for problem, keys in (("missing", required - z.members.keys()), ("unexpected", z.members.keys() - required - optional)):
        if keys:
            names = [k if k.isidentifier() and len(k) <= 30 else _short(k, 30) for k in sorted(keys, key=lambda k: (len(k), k))]
            more = f" and {len(names) - 10:,} more" if len(names) > 10 else ""
            raise z.fail(f"{problem} keys {', '.join(names[:10])}{more}")


def _slopes(z: NpzReader, meta: dict[str, Any], target_depth: int) -> dict[str, float]:
    """Format /3's slopes: ``negative_slope`` (G's) and, when a target is stored, ``target_negative_slope``,
    each a 0-d float64 ``0 <= a < 1`` (docs/theory.md §14.6); in /1 and /2 neither may be present (the ReLU)."""
    present = [k for k in SLOPE_KEYS if k in z.members]
    if meta["format"] != TICKET_FORMAT_V3:
        if present:
            raise z.fail(f"{present[0]} belongs to format {TICKET_FORMAT_V3!r}, not {meta['format']!r}")
        return {}
    wanted = {"negative_slope"} | ({"target_negative_slope"} if target_depth else set())
    _keys(z, wanted, z.members.keys() - set(SLOPE_KEYS))
    slopes = {}
    for key in present:
        _expect(z, key, _VALUE, 0)
        try:
            slopes[key] = _validate.negative_slope(float(z.read(key)[()]), key)
        except InvalidInputError as exc:
            raise z.fail(f"{exc} (docs/theory.md §14.6)") from None
    return slopes


def read_ticket_file(path: Path) -> TicketFile:
    """Read and check a ticket file, bounded as :mod:`stronglth._npz` says: everything but the values
    (the audit's business) and the entries' ranges (the ticket constructor's)."""
    with NpzReader(path) as z:
        meta = _check_meta(z)
        v2 = meta["format"] in (TICKET_FORMAT_V2, TICKET_FORMAT_V3)
        target_depth = meta.get("target_depth", 0)
        if isinstance(target_depth, bool) or not isinstance(target_depth, int) or not 0 <= target_depth <= MAX_MATRICES // 2:
            raise z.fail(f"bad target_depth {_short(target_depth)}: the number of target layers, 0 (none) to {MAX_MATRICES // 2}")
        slopes = _slopes(z, meta, target_depth)
        network = _network(z, meta, slopes.get("negative_slope", 0.0))  # G's values do not depend on its slope
        depth = network.depth
        biased = [t for t in range(1, depth + 1) if network.biases[t - 1] is not None]
        required = {"meta"} | {f"{kind}_{t}" for t in range(1, depth + 1) for kind in ("rows", "cols", "vals")}
        required |= {f"{kind}_{t}" for t in biased for kind in ("bias_rows", "bias_vals")}
        required |= {f"target_{i}" for i in range(1, target_depth + 1)} | slopes.keys()
        _keys(z, required, {f"target_bias_{i}" for i in range(1, target_depth + 1)} if v2 else set())
        for t, (n_rows, n_cols) in enumerate(network.shapes, start=1):
            lengths = [
                _expect(z, f"{kind}_{t}", dtype, 1)[0] for kind, dtype in (("rows", _INDEX), ("cols", _INDEX), ("vals", _VALUE))
            ]
            if len(set(lengths)) != 1:
                raise z.fail(f"rows_{t}, cols_{t}, vals_{t} differ in length ({', '.join(map(str, lengths))})")
            if lengths[0] > n_rows * n_cols:
                raise z.fail(f"M_{t} keeps {lengths[0]:,} entries but has only {n_rows} x {n_cols} positions")
            if t in biased:
                n = [_expect(z, f"{kind}_{t}", dtype, 1)[0] for kind, dtype in (("bias_rows", _INDEX), ("bias_vals", _VALUE))]
                if n[0] != n[1]:
                    raise z.fail(f"bias_rows_{t}, bias_vals_{t} differ in length ({n[0]}, {n[1]})")
                if n[0] > n_rows:
                    raise z.fail(f"the bias of M_{t} keeps {n[0]:,} entries but has only {n_rows}")
        dims, width = network.dims, network.dims[0]  # width: the input width of target layer i
        for i in range(1, target_depth + 1):
            found = _expect(z, f"target_{i}", _VALUE, 2)
            if target_depth * 2 == depth and found != (dims[2 * i], dims[2 * i - 2]):  # G laid out for the target
                raise z.fail(
                    f"target_{i} has shape {found}, but G's layout (M_{2 * i - 1}, M_{2 * i}) needs {(dims[2 * i], width)}"
                )
            if found[1] != width or (i == target_depth and found[0] != dims[-1]):
                raise z.fail(
                    f"target_{i} has shape {found}: the target must map R^{dims[0]} -> R^{dims[-1]} as G does, layer by layer"
                )
            if f"target_bias_{i}" in z.members and (shape := _expect(z, f"target_bias_{i}", _VALUE, 1)) != (found[0],):
                raise z.fail(f"target_bias_{i} has shape {shape}, target layer {i} has {found[0]} outputs")
            width = found[0]
        entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        bias_entries: list[tuple[np.ndarray, np.ndarray] | None] = []
        for t in range(1, depth + 1):
            rows, cols, vals = (z.read(f"{kind}_{t}") for kind in ("rows", "cols", "vals"))
            if (k := disorder(rows, cols)) is not None:
                a, b = (int(rows[k]), int(cols[k])), (int(rows[k + 1]), int(cols[k + 1]))
                problem = f"position {a} is kept twice" if a == b else f"entries not sorted by (row, col): {a} before {b}"
                raise z.fail(f"M_{t}: {problem} (the format keeps each position once, sorted)")
            entries.append((rows, cols, vals))
            bias_entries.append(None)
            if t in biased:
                bias_rows, bias_vals = z.read(f"bias_rows_{t}"), z.read(f"bias_vals_{t}")
                if (k := disorder(bias_rows, np.zeros_like(bias_rows))) is not None:
                    first, second = int(bias_rows[k]), int(bias_rows[k + 1])
                    twice = first == second
                    problem = f"bias row {first} is kept twice" if twice else f"bias rows not sorted: {first} before {second}"
                    raise z.fail(f"the bias of M_{t}: {problem} (the format keeps each once, sorted)")
                bias_entries[-1] = (bias_rows, bias_vals)
        targets = [z.read(f"target_{i}") for i in range(1, target_depth + 1)]
        target_biases = [
            z.read(f"target_bias_{i}") if f"target_bias_{i}" in z.members else None for i in range(1, target_depth + 1)
        ]
    own = {k: v for k, v in meta.items() if k not in META_RESERVED}
    scale = float(meta.get("output_scale", 1.0))
    target_slope = slopes.get("target_negative_slope", 0.0)
    return TicketFile(network, entries, bias_entries, targets, target_biases, meta["certified_error"], scale, own, target_slope)
