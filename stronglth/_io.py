"""Files written so that they are never half-written: the one atomic writer, and the CSV writer.

Everything the package writes to a user-named path goes through :func:`atomic_write`: the content
goes to a temporary file beside ``path``, is flushed and ``fsync``'d, and replaces ``path`` with one
``os.replace``. An interruption at any moment leaves either the old file or the new one, never a
partial file. New files get the mode the user's umask gives (``mkstemp`` alone would make 0600).
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stronglth.errors import InvalidInputError

__all__ = ["atomic_write", "write_text", "write_csv", "fsync_directory"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_directory(directory: str | os.PathLike) -> None:
    """``fsync`` a directory, so that a file just created or renamed in it survives a crash."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover  (platforms without directory fds)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w") -> Iterator[Any]:
    """Open a temporary file next to ``path`` (text ``"w"`` or binary ``"wb"``); on a normal exit
    it is flushed, ``fsync``'d and replaces ``path``; on any exception it is removed."""
    if mode not in ("w", "wb"):
        raise InvalidInputError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        # Text mode writes newlines untranslated (the csv module's requirement); binary mode takes
        # no newline argument, and ``None`` is what ``open`` treats as "not given".
        newline: str | None = "" if mode == "w" else None
        with os.fdopen(fd, mode, newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically; returns the path."""
    with atomic_write(path) as f:
        f.write(text)
    return Path(path)


def _csv_value(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return value


def write_csv(path: str | os.PathLike, records: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> Path:
    """Write ``records`` as CSV (floats by ``repr``, lists and dicts as JSON, ``None`` empty),
    atomically. ``columns`` defaults to every key, in order of first appearance."""
    if columns is None:
        found: list[str] = []
        for r in records:
            found += [k for k in r if k not in found]
        columns = found
    with atomic_write(path) as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for r in records:
            writer.writerow([_csv_value(r.get(c)) for c in columns])
    return Path(path)
