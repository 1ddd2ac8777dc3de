"""Ticket files on disk (formats "stronglth-ticket/1" and "/2", the README): the bounded reader; the
format's rules are in :mod:`stronglth._ticket_format`.

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
from pathlib import Path
from typing import IO, Any

import numpy as np

from stronglth._io import check_input_file
from stronglth.errors import InvalidInputError, TicketFormatError, TooLargeError

__all__ = ["MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES", "MAX_META_CHARS", "MAX_META_DEPTH", "NpzReader"]
__all__ += ["ticket_path", "json_depth", "parse_json"]

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
