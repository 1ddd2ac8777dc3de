"""The results store (format ``stronglth-sweep/1``): append-only JSONL files of finished cells.

A sweep writes to ``OUT/<experiment>/``:

- ``results.jsonl``: one JSON object per line per finished cell (:class:`Row`), appended with one
  ``write`` then ``fsync`` per row, under an exclusive lock (a second writer of the same file is
  refused). A run killed at any moment, even by SIGKILL, loses only the cells in flight: every row
  already returned is on disk. A line torn by a crash mid-write (no final newline) is ignored by
  the reader and cut off by the next writer before it appends, so no partial row is ever read and
  none is ever glued to the next one.
- ``results.shard-<i>-of-<N>.jsonl``: the same, for ``shard=(i, N)``, so that shards sharing a
  directory (a cluster file system) never write one file; :func:`~stronglth.sweep.merge` appends
  their rows to ``results.jsonl``.
- Readers de-duplicate by hash (first occurrence wins), so no cell is ever counted twice.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
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


def read_rows(path: str | os.PathLike) -> list[Row]:
    """The rows of one results file, in file order. A torn last line (no final newline: a writer
    killed mid-write) is ignored; a damaged line anywhere else is an error naming it."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    complete = lines[:-1]  # the last piece is b"" after a final newline, else a torn line: ignored
    rows = []
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            continue
        try:
            rows.append(Row.from_json(line, f"{path}, line {number}"))
        except (ValueError, UnicodeDecodeError) as exc:
            if isinstance(exc, InvalidInputError):
                raise
            raise InvalidInputError(f"{path}, line {number}: not a JSON row ({exc}); remove the line to go on") from None
    return rows


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
    run shards with ``shard=`` to write in parallel). On opening, a torn last line left by a crash
    is cut off, so every complete line is a complete row.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    raise InvalidInputError(
                        f"{self.path} is being written by another sweep; wait for it, or split the grid with --shard i/N"
                    ) from None
            self._cut_torn_tail()
            if created:
                os.fsync(self._fd)
                fsync_directory(self.path.parent)
        except BaseException:
            os.close(self._fd)
            raise

    def _cut_torn_tail(self) -> None:
        size = os.fstat(self._fd).st_size
        if size == 0 or os.pread(self._fd, 1, size - 1) == b"\n":
            return
        end = size
        while end > 0:  # find the last newline, reading backwards
            start = max(0, end - 65536)
            chunk = os.pread(self._fd, end - start, start)
            i = chunk.rfind(b"\n")
            if i >= 0:
                end = start + i + 1
                break
            end = start
        os.ftruncate(self._fd, end)
        os.fsync(self._fd)

    def append(self, row: Row) -> None:
        data = (row.to_json() + "\n").encode("ascii")
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)

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
