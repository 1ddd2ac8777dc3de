"""The results store (format ``stronglth-sweep/1``): append-only JSONL files of finished cells.

A sweep writes to ``OUT/<experiment>/``:

- ``results.jsonl``: one JSON object per line per finished cell (:class:`Row`), appended with one
  ``write`` then ``fsync`` per row, under an exclusive lock (a second writer of the same file is
  refused). A run killed at any moment, even by SIGKILL, loses only the cells in flight: every row
  already returned is on disk. A line torn by a crash mid-write (no final newline) is ignored by
  the reader and cut off by the next writer before it appends, so no partial row is ever read and
  none is ever glued to the next one. A write that fails (a full disk) is undone before the error
  is raised, so the file always ends at a complete row.
- A results file is only ever opened as a regular file, never through a symbolic link, and the
  writer changes nothing (not even a torn tail) in a file whose complete lines are not all rows:
  pointed at the wrong file, a sweep refuses it instead of truncating it.
- ``results.shard-<i>-of-<N>.jsonl``: the same, for ``shard=(i, N)``, so that shards sharing a
  directory (a cluster file system) never write one file; :func:`~stronglth.sweep.merge` appends
  their rows to ``results.jsonl``.
- Readers de-duplicate by hash (first occurrence wins), so no cell is ever counted twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stronglth._io import fsync_directory
from stronglth._version import __version__
from stronglth.errors import InvalidInputError
from stronglth.sweep.config import canonical_text, hash_text

try:  # POSIX; elsewhere the single-writer lock is skipped
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ["FORMAT", "RESULTS", "Row", "read_rows", "load_rows", "results_filename", "result_files", "ResultWriter", "finite"]

FORMAT = "stronglth-sweep/1"
RESULTS = "results.jsonl"


@dataclass(frozen=True)
class Row:
    """One finished cell: its hash, experiment, config type and fields, result, and bookkeeping
    (``seconds`` of computation, package ``version``, ``finished`` UTC time): only ``hash``,
    ``experiment``, ``type``, ``config`` and ``result`` are a function of the config."""

    hash: str
    experiment: str
    type: str
    config: dict[str, Any]
    result: dict[str, Any]
    seconds: float = 0.0
    version: str = __version__
    finished: str = ""

    def to_json(self) -> str:
        obj = {"format": FORMAT, **dataclasses.asdict(self)}
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes, where: str) -> Row:
        obj = json.loads(text)
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise InvalidInputError(f"{where}: not a {FORMAT} row")
        try:
            row = cls(**{f.name: obj[f.name] for f in dataclasses.fields(cls)})
        except KeyError as exc:
            raise InvalidInputError(f"{where}: row lacks the key {exc.args[0]!r}") from None
        if hash_text(canonical_text(row.type, row.config)) != row.hash:
            raise InvalidInputError(f"{where}: the row's hash {row.hash} is not the hash of its config (edited by hand?)")
        return row


def finite(value: Any) -> Any:
    """Results as strict JSON: non-finite floats become ``None``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [finite(v) for v in value]
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    return value


_ROW_START = b'{"config":'  # every row's first bytes (sorted keys): what a torn last line begins with


def _refuse(path: Path, st: os.stat_result) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise InvalidInputError(
            f"{path} is a symbolic link; a results file is never opened through one (copy the file there instead)"
        )
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInputError(f"{path} is not a regular file (a directory, a FIFO or a device?); move it away to go on")


def _open(path: Path, flags: int) -> int:
    """A descriptor of the regular file ``path``, refusing a symbolic link (checked before opening,
    and by ``O_NOFOLLOW`` against a swap in between) and anything but a regular file. A missing file
    raises FileNotFoundError unless ``flags`` has ``O_CREAT``; other OS errors are package errors."""
    try:
        _refuse(path, os.lstat(path))
    except FileNotFoundError:
        if not flags & os.O_CREAT:
            raise
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot open it ({exc.strerror or exc})") from None
    try:
        fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o644)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if os.path.islink(path):
            _refuse(path, os.lstat(path))
        raise InvalidInputError(f"{path}: cannot open it ({exc.strerror or exc})") from None
    try:
        _refuse(path, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _torn(tail: bytes) -> bool:
    """Whether ``tail`` (the bytes after the last newline) can be the start of a row cut by a crash:
    a prefix of some row, possibly followed by zero bytes (a file extended but not written before a
    power loss)."""
    tail = tail.rstrip(b"\0")
    return tail.isascii() and tail[: len(_ROW_START)] == _ROW_START[: len(tail)]


def _parse(data: bytes, path: Path) -> tuple[list[Row], int]:
    """The rows of the complete lines of ``data`` (blank lines skipped) and the length of those lines
    (where a torn last line starts). Any complete line that is not a row, and a last line that is not
    the start of one, is an error naming the line."""
    complete = data.rfind(b"\n") + 1
    lines = data[:complete].split(b"\n")[:-1]
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(Row.from_json(line, f"{path}, line {number}"))
        except (ValueError, UnicodeDecodeError) as exc:
            if isinstance(exc, InvalidInputError):
                raise
            raise InvalidInputError(f"{path}, line {number}: not a JSON row ({exc}); remove the line to go on") from None
    if not _torn(data[complete:]):
        raise InvalidInputError(
            f"{path}, line {len(lines) + 1}: not a {FORMAT} row, nor the start of one cut by a crash; is this a results file?"
        )
    return rows, complete


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def read_rows(path: str | os.PathLike) -> list[Row]:
    """The rows of one results file, in file order (``[]`` if there is no such file). A torn last
    line (no final newline: a writer killed mid-write) is ignored; a damaged line anywhere else is
    an error naming it, and so is a symbolic link or anything but a regular file."""
    path = Path(path)
    try:
        fd = _open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO swapped in must not hang
    except FileNotFoundError:
        return []
    try:
        data = _read_all(fd)
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    return _parse(data, path)[0]


def results_filename(shard: tuple[int, int] | None = None) -> str:
    return RESULTS if shard is None else f"results.shard-{shard[0]}-of-{shard[1]}.jsonl"


def result_files(directory: Path) -> list[Path]:
    files = sorted(directory.glob("*.jsonl"))
    return sorted(files, key=lambda p: (p.name != RESULTS, p.name))  # results.jsonl first


def load_rows(directory: str | os.PathLike, *, experiment: str | None = None) -> dict[str, Row]:
    """Every row in ``directory/*.jsonl`` (``results.jsonl`` first), de-duplicated by hash (the
    first occurrence wins), optionally only those of ``experiment``."""
    out: dict[str, Row] = {}
    for path in result_files(Path(directory)):
        for row in read_rows(path):
            if experiment is not None and row.experiment != experiment:
                continue
            out.setdefault(row.hash, row)
    return out


class ResultWriter:
    """Appends rows to one results file: one ``os.write`` per row, then ``fsync``.

    Holds an exclusive ``flock`` on the file while open (a second writer is refused with an error:
    run shards with ``shard=`` to write in parallel). On opening, the file is refused (with
    :class:`~stronglth.errors.InvalidInputError`, and left as it is) if it is a symbolic link, not
    a regular file, or has a complete line that is not a row; then a torn last line left by a crash
    is cut off, so every complete line is a complete row. :attr:`rows` are the rows it held.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not os.path.lexists(self.path)
        except OSError as exc:
            raise InvalidInputError(f"{self.path.parent}: cannot make the directory ({exc.strerror or exc})") from None
        self._fd = _open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    raise InvalidInputError(
                        f"{self.path} is being written by another sweep; wait for it, or split the grid with --shard i/N"
                    ) from None
            try:  # validated under the lock, before anything is changed
                self.rows, complete = _parse(_read_all(self._fd), self.path)
                if complete < os.fstat(self._fd).st_size:  # a torn last line
                    os.ftruncate(self._fd, complete)
                    os.fsync(self._fd)
                if created:
                    os.fsync(self._fd)
                    fsync_directory(self.path.parent)
            except OSError as exc:
                raise InvalidInputError(f"{self.path}: cannot prepare it for writing ({exc})") from None
        except BaseException:
            os.close(self._fd)
            raise

    def append(self, row: Row) -> None:
        """Write ``row`` as one line and fsync it. If that fails (a full disk: any OSError), the
        bytes written are cut off again and :class:`~stronglth.errors.InvalidInputError` names the
        file and the OS error: the file still ends at its last complete row, and a rerun resumes.
        An interruption (Ctrl-C) mid-write is undone the same way before it propagates; one that
        arrives during the fsync, once the whole line is written, keeps the row (it is finished work,
        already readable) and syncs it once more before propagating."""
        data = (row.to_json() + "\n").encode("ascii")
        start = os.fstat(self._fd).st_size  # where O_APPEND writes: the lock keeps other writers out
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)
        except BaseException as exc:
            if not view and not isinstance(exc, OSError):  # interrupted in fsync: the line is whole
                with contextlib.suppress(BaseException):
                    os.fsync(self._fd)
                raise
            undone = self._cut(start)
            if not isinstance(exc, OSError):
                raise
            left = (
                "the file still ends at its last complete row" if undone else "a torn last line may remain (cut on the next run)"
            )
            raise InvalidInputError(f"{self.path}: could not write a row ({exc}); {left}; rerun to resume") from exc

    def _cut(self, size: int) -> bool:
        """Truncate back to ``size`` bytes after a failed write; False if that failed. Making the
        cut durable is best effort: if the disk refuses even that, a crash can at worst bring back
        the bytes written, a torn line the next writer cuts or a whole row."""
        try:
            if os.fstat(self._fd).st_size != size:
                os.ftruncate(self._fd, size)
        except OSError:
            return False
        try:
            os.fsync(self._fd)
        except OSError:
            pass
        return True

    def fileno(self) -> int:
        """The descriptor holding the lock (worker processes forked meanwhile close their copy)."""
        return self._fd

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # releases the lock
            self._fd = -1

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
