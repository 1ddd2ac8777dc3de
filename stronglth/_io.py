"""Files written so that they are never half-written: the one atomic writer, and the CSV writer.

Everything the package writes to a user-named path goes through :func:`atomic_write`: the content
goes to a temporary file beside ``path``, is flushed and ``fsync``'d, and replaces ``path`` with one
``os.replace``. An interruption at any moment leaves either the old file or the new one, never a
partial file. New files get the mode the user's umask gives (``mkstemp`` alone would make 0600).
Any ``OSError`` on the way (a read-only directory, a full disk, a directory at ``path``) becomes one
:class:`~stronglth.errors.InvalidInputError` naming the path and the OS error, and nothing is left at
``path`` (the temporary file is removed).

:func:`check_output_path` and :func:`check_input_file` refuse, before any computation, a path that
cannot be written (or read): the command line checks its output options with them first.
"""

from __future__ import annotations

import csv
import json
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Literal

from stronglth.errors import InvalidInputError

__all__ = ["atomic_write", "write_text", "write_csv", "fsync_directory", "check_output_path", "check_input_file"]


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


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _kind(path: Path) -> str | None:
    """``"directory"``, ``"file"`` (regular), ``"other"`` (a device, a socket...) or ``None`` (absent)."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:  # a dangling symlink loop, an unsearchable parent, ...
        raise InvalidInputError(f"{path}: cannot be inspected: {_os_reason(exc)}") from None
    return "directory" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"


def _nearest_existing(path: Path) -> tuple[Path, str]:
    """``path`` or its nearest ancestor that exists, and its kind (``.`` for a relative path with none)."""
    for candidate in (path, *path.parents):
        kind = _kind(candidate)
        if kind is not None:
            return candidate, kind
    return Path("."), "directory"  # pragma: no cover  (the root, or ``.``, always exists)


def _check_writable_directory(path: Path, directory: Path, *, missing_allowed: bool) -> None:
    def refuse(reason: str) -> InvalidInputError:
        return InvalidInputError(f"{path}: cannot write here: {reason}")

    existing, kind = _nearest_existing(directory)
    if kind == "file":
        raise refuse(f"it lies under a file ({existing} is a regular file, not a directory)")
    if kind != "directory":
        raise refuse(f"it lies under {existing}, which is not a directory")
    if existing != directory and not missing_allowed:
        raise refuse(f"the directory {directory} does not exist")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise refuse(f"the directory {existing} is not writable")


def check_output_path(path: str | os.PathLike, *, kind: Literal["file", "directory"] = "file", suffix: str | None = None) -> Path:
    """``Path(path)`` if the package can write its output there, else an
    :class:`~stronglth.errors.InvalidInputError` naming the path and the reason. Nothing is created.

    ``kind="file"``: ``path`` must not be an existing directory (or other non-regular file), must end
    with ``suffix`` when one is given (``".npz"``), and its parent must be an existing, writable
    directory. ``kind="directory"``: ``path`` must not be an existing non-directory; if it exists it
    must be writable, and if not, its nearest existing ancestor must be a writable directory (the
    missing ones are created when the output is written). A path under a regular file is refused
    either way. Writability is ``os.access(..., W_OK | X_OK)`` (a read-only mount counts, even for root).
    """
    if kind not in ("file", "directory"):
        raise InvalidInputError(f"kind must be 'file' or 'directory', got kind={kind!r}")
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise InvalidInputError(f"an output path must be a string or a path, got {path!r} ({type(path).__name__})")
    if str(path) == "":
        raise InvalidInputError("an output path must not be empty")
    target = Path(path)
    found = _kind(target)
    if kind == "directory":
        if suffix is not None:
            raise InvalidInputError(f"suffix is for kind='file', got suffix={suffix!r} for a directory")
        if found not in (None, "directory"):
            raise InvalidInputError(f"{target}: cannot write here: it exists and is not a directory")
        _check_writable_directory(target, target, missing_allowed=True)
        return target
    if suffix is not None and (not isinstance(suffix, str) or not suffix.startswith(".")):
        raise InvalidInputError(f"suffix must be a string like '.npz', got suffix={suffix!r}")
    if found == "directory":
        raise InvalidInputError(f"{target}: cannot write here: it is a directory")
    if found == "other":
        raise InvalidInputError(f"{target}: cannot write here: it exists and is not a regular file")
    if suffix is not None and target.suffix != suffix:
        raise InvalidInputError(f"{target}: the output must be a {suffix} file, got the suffix {target.suffix or '(none)'!r}")
    _check_writable_directory(target, target.parent, missing_allowed=False)
    return target


def check_input_file(path: str | os.PathLike, *, what: str = "file") -> Path:
    """``Path(path)`` if it is an existing, readable regular file, else an
    :class:`~stronglth.errors.InvalidInputError` saying which of these it is not (``what`` names the
    file in the message: ``"ticket file"``)."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise InvalidInputError(f"a {what} must be named by a non-empty string or path, got {path!r}")
    source = Path(path)
    found = _kind(source)
    if found == "directory":
        raise InvalidInputError(f"{source}: is a directory, not a {what}")
    if found is None:
        under, kind = _nearest_existing(source.parent)
        reason = f" ({under} is not a directory)" if kind != "directory" else ""
        raise InvalidInputError(f"{source}: no such {what}{reason}")
    if found != "file":
        raise InvalidInputError(f"{source}: not a regular file, so not a {what}")
    if not os.access(source, os.R_OK):
        raise InvalidInputError(f"{source}: the {what} is not readable (permission denied)")
    return source


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w") -> Iterator[Any]:
    """Open a temporary file next to ``path`` (text ``"w"`` or binary ``"wb"``); on a normal exit
    it is flushed, ``fsync``'d and replaces ``path``; on any exception it is removed.

    An ``OSError`` (a read-only or missing directory that cannot be created, a full disk, a
    directory at ``path``), whether raised here or by a write in the ``with`` block, is re-raised as
    an :class:`~stronglth.errors.InvalidInputError` naming ``path`` and the OS error; ``path`` is
    then untouched (absent if it was absent)."""
    if mode not in ("w", "wb"):
        raise InvalidInputError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.chmod(tmp, 0o666 & ~_umask())
            # Text mode writes newlines untranslated (the csv module's requirement); binary mode takes
            # no newline argument, and ``None`` is what ``open`` treats as "not given".
            newline: str | None = "" if mode == "w" else None
            f = os.fdopen(fd, mode, newline=newline)
        except BaseException:
            os.close(fd)
            raise
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with suppress(OSError):
                Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            raise InvalidInputError(f"{path}: cannot write: {_os_reason(exc)}") from exc
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
