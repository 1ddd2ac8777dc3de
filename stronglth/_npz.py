"""Ticket files on disk (format "stronglth-ticket/1", the README): the bounded reader and the format's rules.

Reading costs memory and time in what a file really holds, whatever it claims. The zip directory
is read first: a member not named ``<key>.npy``, encrypted, compressed other than stored or deflated,
or declaring more than :data:`MAX_MEMBER_BYTES` (all together :data:`MAX_TOTAL_BYTES`) is refused
before anything is inflated. Then only a member's npy header is read: its dtype (objects, hence
pickles, are refused), its shape, and that the data it declares is what the directory says the
member holds (a lying header or a zip bomb is refused unread). ``meta`` is JSON of at most
:data:`MAX_META_CHARS` characters nested at most :data:`MAX_META_DEPTH` deep, with no NaN, no
infinity and no key twice. The writer is ``numpy.savez``: members in a fixed order, each dated
1980-01-01 by ``ZipFile.open(name, "w")``, so the same ticket gives the same bytes (tested).
"""

from __future__ import annotations

import json
import math
import os
import zipfile
import zlib
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from stronglth._io import check_input_file
from stronglth.errors import InvalidInputError, TicketFormatError, TooLargeError
from stronglth.random_network import GENERATOR, MAX_MATRICES, RandomNetwork

__all__ = ["MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES", "MAX_META_CHARS", "MAX_META_DEPTH", "NpzReader"]
__all__ += ["ticket_path", "json_depth", "parse_json", "meta_field_problem", "check_ticket_meta", "disorder", "read_ticket_file"]

MAX_MEMBER_BYTES = 2**30
"""The largest declared uncompressed size of one member (1 GiB: 134 million kept entries of one ``M_t``)."""
MAX_TOTAL_BYTES = 2**32
"""The largest declared uncompressed size of all members together (4 GiB)."""
MAX_META_CHARS = 2**20
"""The longest ``meta`` JSON text, in characters (1 MiB)."""
MAX_META_DEPTH = 32
"""The deepest nesting of lists and objects in ``meta`` (a ticket's own fields need 3)."""

_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated", zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
_BAD = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, OverflowError)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _bytes(n: int) -> str:
    unit, size = next(((u, s) for u, s in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)) if n >= s), ("", 1))
    return f"{n / size:.3g} {unit} ({n:,} bytes)" if unit else f"{n:,} bytes"


def ticket_path(path: Any, *, reading: bool) -> Path:
    """``Path(path)`` for a ticket file to read (an existing regular file) or to write (not a
    directory), else an :class:`~stronglth.errors.InvalidInputError` naming it and the reason."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise InvalidInputError(f"the ticket path must be a non-empty str or os.PathLike, got {path!r} ({type(path).__name__})")
    try:
        checked = Path(path)
    except TypeError as exc:  # a PathLike whose __fspath__ gives bytes
        raise InvalidInputError(f"the ticket path must be a str or os.PathLike naming a path ({exc})") from None
    if reading:
        return check_input_file(checked, what="ticket file")  # the package's one input check
    if checked.is_dir():
        raise InvalidInputError(f"{checked}: cannot write the ticket: a directory, not a ticket file")
    return checked


def _what_it_is(f: IO[bytes]) -> str:
    """What a file that is not a zip archive looks like, from its first bytes."""
    f.seek(0)
    head = f.read(8)
    if not head:
        return "an empty file, not an .npz archive"
    if head.startswith(b"\x93NUMPY"):
        return "a plain .npy array file, not an .npz archive (a zip of .npy members)"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle, not an .npz archive (pickles are refused: no pickle anywhere)"
    return f"not an .npz archive: a zip file is expected, the file starts with the bytes {head!r}"


class NpzReader:
    """An .npz archive opened for bounded reading; ``members`` maps each key to its zip entry.

    Every check of the zip directory is done on opening, before anything is inflated. Use as a
    context manager; errors are :class:`~stronglth.errors.TicketFormatError` (or
    :class:`~stronglth.errors.TooLargeError` for the size limits) naming ``path``.
    """

    def __init__(self, path: Path):
        self.path = path
        self._file = open(path, "rb")  # an OSError here is the path's problem; past here, the content's
        try:
            try:
                self._zip = zipfile.ZipFile(self._file)
            except zipfile.BadZipFile:
                raise self.fail(_what_it_is(self._file)) from None
            except _BAD as exc:
                raise self.fail(f"not a readable .npz archive ({exc})") from None
            self.members = self._check_directory(self._zip.infolist())
        except BaseException:
            self._file.close()
            raise

    def fail(self, problem: str) -> TicketFormatError:
        return TicketFormatError(f"{self.path}: {problem}")

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._zip.close()
        self._file.close()

    def _check_directory(self, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
        members: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = info.filename
            if not name.endswith(".npy") or len(name) == 4:
                raise self.fail(f"member {_short(name)} is not a .npy array (every member of an .npz is <key>.npy)")
            if name[:-4] in members:
                raise self.fail(f"member {_short(name)} appears twice in the archive")
            if info.flag_bits & 0x1:
                raise self.fail(f"member {_short(name)} is encrypted, which is refused")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                method = f"{info.compress_type} ({_METHODS.get(info.compress_type, 'unknown')})"
                raise self.fail(
                    f"member {_short(name)} uses compression method {method}; only stored (0) and deflated (8) are read"
                )
            if info.file_size > MAX_MEMBER_BYTES:
                raise TooLargeError(
                    f"{self.path}: member {_short(name)} declares {_bytes(info.file_size)} uncompressed,"
                    f" above the limit of {_bytes(MAX_MEMBER_BYTES)} per member (stronglth._npz.MAX_MEMBER_BYTES)"
                )
            total += info.file_size
            members[name[:-4]] = info
        if total > MAX_TOTAL_BYTES:
            raise TooLargeError(
                f"{self.path}: the members declare {_bytes(total)} uncompressed together, above the limit of"
                f" {_bytes(MAX_TOTAL_BYTES)} (stronglth._npz.MAX_TOTAL_BYTES)"
            )
        return members

    def header(self, key: str) -> tuple[np.dtype, tuple[int, ...]]:
        """Member ``key``'s dtype and shape from its npy header, checked against the member's size in
        the zip directory (read before any of its data)."""
        info = self.members[key]
        try:
            with self._zip.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version not in ((1, 0), (2, 0)):
                    raise self.fail(f"member {key}.npy has npy format version {version}; versions 1.0 and 2.0 are read")
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _, dtype = read_header(f)
                header_bytes = f.tell()
        except TicketFormatError:
            raise
        except (*_BAD, SyntaxError, TypeError) as exc:
            raise self.fail(f"member {key}.npy is not a readable .npy array ({exc})") from None
        if dtype.hasobject:
            raise self.fail(f"member {key}.npy holds pickled objects (dtype {dtype}), which are refused: no pickle anywhere")
        if any(not isinstance(n, int) or n < 0 for n in shape):
            raise self.fail(f"member {key}.npy declares the shape {_short(shape)}, not a shape")
        declared = math.prod(shape) * dtype.itemsize
        if header_bytes + declared != info.file_size:
            raise self.fail(
                f"member {key}.npy: its npy header declares shape {_short(shape)} of {dtype} = {_bytes(declared)} of data,"
                f" but the member holds {_bytes(max(info.file_size - header_bytes, 0))} after the header"
            )
        return dtype, tuple(shape)

    def read(self, key: str) -> np.ndarray:
        """Member ``key``'s array (call :meth:`header` first: it bounds what this reads)."""
        try:
            with self._zip.open(self.members[key]) as f:
                return np.lib.format.read_array(f, allow_pickle=False)
        except _BAD as exc:
            raise self.fail(f"member {key}.npy is corrupt ({exc})") from None
        except MemoryError:
            raise TooLargeError(f"{self.path}: member {key}.npy does not fit in memory") from None


def json_depth(value: Any) -> int:
    """How deep lists and objects nest in the JSON value ``value`` (``{"a": [1]}``: 2), iteratively."""
    depth, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list, tuple)):
            depth = max(depth, level)
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return depth


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (non-finite numbers are refused)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {_short(text)} is not finite")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len(out := dict(pairs)) < len(pairs):
        twice = next(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
        raise ValueError(f"the key {_short(twice)} appears twice in one object")
    return out


def parse_json(text: str, what: str) -> Any:
    """The JSON value ``text``, bounded: at most :data:`MAX_META_CHARS` characters and
    :data:`MAX_META_DEPTH` levels, finite numbers, unique keys; else a ``ValueError`` naming ``what``."""
    if len(text) > MAX_META_CHARS:
        raise ValueError(f"{what} is {len(text):,} characters of JSON, above the limit of {MAX_META_CHARS:,}")
    try:  # json's own recursion guard stops a deep text early (~1000 levels), in little memory
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise ValueError(
            f"{what} nests more levels deep than the parser's recursion limit; the limit is {MAX_META_DEPTH}"
        ) from None
    except ValueError as exc:
        raise ValueError(f"{what} is not valid JSON ({exc})") from None
    if (depth := json_depth(value)) > MAX_META_DEPTH:
        raise ValueError(f"{what} nests {depth:,} levels deep, above the limit of {MAX_META_DEPTH}")
    return value


# -- the format's rules: meta fields, keys, dtypes and shapes ---------------------------------------

TICKET_FORMAT = "stronglth-ticket/1"
META_REQUIRED = ("format", "generator", "seed", "shapes", "method", "eps", "delta", "certified_error")
"""The fields a reader needs; ``version`` (the writer's package version) and everything else are
provenance, kept in ``ticket.meta`` but not required (a ticket written by another tool loads)."""
META_RESERVED = frozenset(META_REQUIRED) - {"method", "eps", "delta"} | {"target_depth", "version"}
"""Fields the writer sets from the ticket itself, so not to be given in ``Ticket(meta=...)``."""
_INDEX, _VALUE = np.dtype("<i8"), np.dtype("<f8")


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
    ``certified_error``, ``version``), or ``None`` when it is."""
    if key == "version":
        return None if isinstance(value, str) else f"version must be a string when present, got {_short(value)}"
    if key == "method":
        return None if value is None or isinstance(value, str) else f"method must be a string or None (null), got {_short(value)}"
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
    if missing := [k for k in META_REQUIRED if k not in meta]:
        raise z.fail(f"meta lacks {', '.join(missing)}")
    if meta["format"] != TICKET_FORMAT:
        raise z.fail(f"unknown format {_short(meta['format'])}; this version reads {TICKET_FORMAT!r}")
    if meta["generator"] != GENERATOR:
        raise z.fail(f"unknown generator {_short(meta['generator'])}; this version knows {GENERATOR!r}")
    seed = meta["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise z.fail(f"meta field seed must be a non-negative integer, got {_short(seed)} ({type(seed).__name__})")
    for key in ("method", "eps", "delta", "certified_error", "version"):
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


def read_ticket_file(path: Path) -> tuple[RandomNetwork, list[tuple[np.ndarray, ...]], list[np.ndarray], Any, dict[str, Any]]:
    """Read and check a ticket file, bounded as the module says: everything but the values (the
    audit's business) and the entries' ranges (the ticket constructor's). Returns G, the kept entries
    of each ``M_t``, the target's weight matrices, the certified error and the provenance meta."""
    with NpzReader(path) as z:
        meta = _check_meta(z)
        try:
            network = RandomNetwork(meta["shapes"], seed=meta["seed"])
        except InvalidInputError as exc:
            raise z.fail(f"bad shapes in meta: {exc}") from None
        depth, target_depth = network.depth, meta.get("target_depth", 0)
        if isinstance(target_depth, bool) or not isinstance(target_depth, int) or not 0 <= target_depth <= MAX_MATRICES // 2:
            raise z.fail(f"bad target_depth {_short(target_depth)}: the number of target layers, 0 (none) to {MAX_MATRICES // 2}")
        expected = {"meta"} | {f"{kind}_{t}" for t in range(1, depth + 1) for kind in ("rows", "cols", "vals")}
        expected |= {f"target_{i}" for i in range(1, target_depth + 1)}
        for problem, keys in (("missing", expected - z.members.keys()), ("unexpected", z.members.keys() - expected)):
            if keys:
                names = [
                    k if k.isidentifier() and len(k) <= 30 else _short(k, 30) for k in sorted(keys, key=lambda k: (len(k), k))
                ]
                more = f" and {len(names) - 10:,} more" if len(names) > 10 else ""
                raise z.fail(f"{problem} keys {', '.join(names[:10])}{more}")
        for t, (n_rows, n_cols) in enumerate(network.shapes, start=1):
            lengths = [
                _expect(z, f"{kind}_{t}", dtype, 1)[0] for kind, dtype in (("rows", _INDEX), ("cols", _INDEX), ("vals", _VALUE))
            ]
            if len(set(lengths)) != 1:
                raise z.fail(f"rows_{t}, cols_{t}, vals_{t} differ in length ({', '.join(map(str, lengths))})")
            if lengths[0] > n_rows * n_cols:
                raise z.fail(f"M_{t} keeps {lengths[0]:,} entries but has only {n_rows} x {n_cols} positions")
        dims, width = network.dims, network.dims[0]  # width: the input width of target layer i
        for i in range(1, target_depth + 1):
            found = _expect(z, f"target_{i}", _VALUE, 2)
            if target_depth == depth // 2 and found != (dims[2 * i], dims[2 * i - 2]):  # G laid out for the target
                raise z.fail(
                    f"target_{i} has shape {found}, but G's layout (M_{2 * i - 1}, M_{2 * i}) needs {(dims[2 * i], width)}"
                )
            if found[1] != width or (i == target_depth and found[0] != dims[-1]):
                raise z.fail(
                    f"target_{i} has shape {found}: the target must map R^{dims[0]} -> R^{dims[-1]} as G does, layer by layer"
                )
            width = found[0]
        entries: list[tuple[np.ndarray, ...]] = []
        for t in range(1, depth + 1):
            rows, cols, vals = (z.read(f"{kind}_{t}") for kind in ("rows", "cols", "vals"))
            if (k := disorder(rows, cols)) is not None:
                a, b = (int(rows[k]), int(cols[k])), (int(rows[k + 1]), int(cols[k + 1]))
                problem = f"position {a} is kept twice" if a == b else f"entries not sorted by (row, col): {a} before {b}"
                raise z.fail(f"M_{t}: {problem} (the format keeps each position once, sorted)")
            entries.append((rows, cols, vals))
        targets = [z.read(f"target_{i}") for i in range(1, target_depth + 1)]
    own = {k: v for k, v in meta.items() if k not in META_RESERVED}
    return network, entries, targets, meta["certified_error"], own
