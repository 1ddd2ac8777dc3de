"""Experiment sweeps: grids of cells, results named by a hash of their config, resumable and shardable.

An *experiment* is a grid of *cells*. A cell is a typed, frozen dataclass config (a
:class:`SweepConfig`), and its result is a pure function of that config (seeds included: no global
random state, no clock), so a cell computed twice, in any process, on any shard, gives the same row.
As in open_lth, a cell is named by a hash of its config (:func:`config_hash`): the SHA-256 of a
canonical JSON text (:func:`canonical_json`: the type name and every field, keys sorted, tuples as
lists, floats by ``repr``), cut to :data:`HASH_CHARS` hex digits.

Results store (format ``stronglth-sweep/1``). A sweep writes to ``OUT/<experiment>/``:

- ``results.jsonl``: one JSON object per line per finished cell (:class:`Row`), appended with one
  ``write`` then ``flush`` and ``fsync`` per row, under an exclusive lock (a second writer of the
  same file is refused). A run killed at any moment, even by SIGKILL, loses only the cells in
  flight: every row already returned is on disk. A line torn by a crash mid-write (no final
  newline) is ignored by the reader and cut off by the next writer before it appends, so no partial
  row is ever read and none is ever glued to the next one.
- ``results.shard-<i>-of-<N>.jsonl``: the same, for ``shard=(i, N)``, so that shards sharing a
  directory (a cluster file system) never write one file; :func:`merge` appends their rows to
  ``results.jsonl``.
- Re-running skips every cell whose hash is in any ``*.jsonl`` of the directory; readers
  de-duplicate by hash (first occurrence wins), so no cell is ever counted twice.

Execution: serial, a local process pool (``jobs``), or one shard ``i`` of ``N`` (0-based, round
robin over the grid order: ``cells[i::N]``), e.g. one task of a SLURM array job
(``--shard $SLURM_ARRAY_TASK_ID/N``), followed by :func:`merge`. A tqdm bar shows progress.
After an unsharded run the experiment's report (CSV, PNG, ``summary.md``) is regenerated from
every row in the directory (:func:`report`).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import math
import os
import re
import tempfile
import time
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from stronglth._version import __version__
from stronglth.errors import InvalidInputError, StrongLTHError

try:  # POSIX; elsewhere the single-writer lock is skipped
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

__all__ = [
    "FORMAT",
    "HASH_CHARS",
    "SweepConfig",
    "Experiment",
    "Row",
    "RunSummary",
    "MergeSummary",
    "CellFailed",
    "EXPERIMENTS",
    "register",
    "get_experiment",
    "canonical_json",
    "config_hash",
    "parse_shard",
    "shard_cells",
    "results_filename",
    "read_rows",
    "load_rows",
    "ResultWriter",
    "run",
    "merge",
    "report",
    "experiment_dirs",
    "write_index",
    "atomic_write",
    "write_csv",
]

FORMAT = "stronglth-sweep/1"
HASH_CHARS = 16
"""Hex digits of SHA-256 kept in a cell's name (64 bits: collisions are not a concern for grids)."""
RESULTS = "results.jsonl"
INDEX_MARK = "<!-- written by stronglth sweep: regenerated on every run -->"


class CellFailed(StrongLTHError):
    """A cell raised a package error; the rows finished before it are kept (rerun to resume)."""


# -- configs and their hashes ------------------------------------------------------------------------


def _coerce(value: Any, hint: Any, name: str) -> Any:
    """``value`` as the declared type ``hint`` (int -> float for float fields, lists -> tuples,
    numpy scalars -> Python), so that equal configs have equal canonical forms."""
    origin = typing.get_origin(hint)
    if hint is float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise InvalidInputError(f"{name} must be a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise InvalidInputError(f"{name} must be finite, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, (bool, np.bool_)):
            raise InvalidInputError(f"{name} must be a bool, got {value!r}")
        return bool(value)
    if hint is int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise InvalidInputError(f"{name} must be an integer, got {value!r}")
        return int(value)
    if hint is str:
        if not isinstance(value, str):
            raise InvalidInputError(f"{name} must be a string, got {value!r}")
        return value
    if origin is tuple:
        args = typing.get_args(hint)
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
            raise InvalidInputError(f"{name} must be a sequence, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{name}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise InvalidInputError(f"{name} must have {len(args)} entries, got {value!r}")
        return tuple(_coerce(v, a, f"{name}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if origin in (typing.Union, getattr(types, "UnionType", typing.Union)):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, name)
            except InvalidInputError as exc:
                errors.append(str(exc))
        raise InvalidInputError("; ".join(errors) or f"{name}: unexpected {value!r}")
    return value


@dataclass(frozen=True)
class SweepConfig:
    """Base of cell configs: a frozen dataclass whose fields are coerced to their declared types
    (``float``, ``int``, ``bool``, ``str``, ``tuple[...]``, optional ``| None``) on construction."""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _coerce(getattr(self, f.name), hints[f.name], f"{type(self).__name__}.{f.name}"))

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _plain(value: Any) -> Any:
    """JSON-ready Python values: tuples as lists, numpy scalars as Python numbers, dataclasses as
    ``{"type": name, "config": fields}``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__name__, "config": {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, str):
        return value
    raise InvalidInputError(f"cannot store a {type(value).__name__} in a sweep config or result: {value!r}")


def _canonical_text(type_name: str, fields: dict[str, Any]) -> str:
    try:
        return json.dumps({"type": type_name, "config": fields}, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    except ValueError as exc:
        raise InvalidInputError(f"a {type_name} config must be finite: {exc}") from None


def canonical_json(config: Any) -> str:
    """The canonical text of a config: ``{"config": {fields}, "type": "<class name>"}`` as JSON with
    sorted keys, no spaces, ASCII only, tuples as lists and floats by ``repr`` (Python's shortest
    round-trip form, the same on every platform and Python >= 3.1). Non-finite floats are refused."""
    if not (dataclasses.is_dataclass(config) and not isinstance(config, type)):
        raise InvalidInputError(f"a sweep config must be a dataclass instance, got {type(config).__name__}")
    plain = _plain(config)
    return _canonical_text(plain["type"], plain["config"])


def _hash_text(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:HASH_CHARS]


def config_hash(config: Any) -> str:
    """The cell's name: the first :data:`HASH_CHARS` hex digits of SHA-256 of :func:`canonical_json`."""
    return _hash_text(canonical_json(config))


# -- experiments ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Experiment:
    """A named grid of cells.

    ``grid(full)`` lists the configs (``full=False``: the default grid, minutes on 2 cores);
    ``cell(config)`` computes one result, a dict of JSON values, as a pure function of the config
    (a module-level function, so that worker processes can run it); ``report(directory, rows)``
    writes the experiment's CSV, PNG and ``summary.md`` and returns their paths.
    """

    name: str
    config_type: type
    grid: Callable[[bool], list[Any]]
    cell: Callable[[Any], dict[str, Any]]
    report: Callable[[Path, list["Row"]], list[Path]] | None = None
    description: str = ""
    hidden: bool = False


EXPERIMENTS: dict[str, Experiment] = {}
"""Registry: experiment name -> :class:`Experiment` (filled by :mod:`stronglth.experiments`)."""


def register(experiment: Experiment) -> Experiment:
    """Add ``experiment`` to :data:`EXPERIMENTS` (the same name twice must be the same experiment)."""
    old = EXPERIMENTS.get(experiment.name)
    if old is not None and old != experiment:
        raise InvalidInputError(f"an experiment named {experiment.name!r} is already registered")
    EXPERIMENTS[experiment.name] = experiment
    return experiment


def get_experiment(name: str | Experiment) -> Experiment:
    if isinstance(name, Experiment):
        return name
    import stronglth.experiments  # noqa: F401  (registers the built-in experiments)

    if name not in EXPERIMENTS:
        known = sorted(n for n, e in EXPERIMENTS.items() if not e.hidden)
        raise InvalidInputError(f"unknown experiment {name!r}; choose one of {known}")
    return EXPERIMENTS[name]


# -- rows and the results store ----------------------------------------------------------------------


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
    def from_json(cls, text: str | bytes, where: str) -> "Row":
        obj = json.loads(text)
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise InvalidInputError(f"{where}: not a {FORMAT} row")
        try:
            row = cls(**{f.name: obj[f.name] for f in dataclasses.fields(cls)})
        except KeyError as exc:
            raise InvalidInputError(f"{where}: row lacks the key {exc.args[0]!r}") from None
        if _hash_text(_canonical_text(row.type, row.config)) != row.hash:
            raise InvalidInputError(f"{where}: the row's hash {row.hash} is not the hash of its config (edited by hand?)")
        return row


def _finite(value: Any) -> Any:
    """Results as strict JSON: non-finite floats become ``None``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
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


def _result_files(directory: Path) -> list[Path]:
    files = sorted(directory.glob("*.jsonl"))
    return sorted(files, key=lambda p: (p.name != RESULTS, p.name))  # results.jsonl first


def load_rows(directory: str | os.PathLike, *, experiment: str | None = None) -> dict[str, Row]:
    """Every row in ``directory/*.jsonl`` (``results.jsonl`` first), de-duplicated by hash (the
    first occurrence wins), optionally only those of ``experiment``."""
    out: dict[str, Row] = {}
    for path in _result_files(Path(directory)):
        for row in read_rows(path):
            if experiment is not None and row.experiment != experiment:
                continue
            out.setdefault(row.hash, row)
    return out


def _fsync_directory(directory: Path) -> None:
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
                _fsync_directory(self.path.parent)
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

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # releases the lock
            self._fd = -1

    def __enter__(self) -> "ResultWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# -- files written atomically ------------------------------------------------------------------------


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w") -> Iterator[Any]:
    """Open a temporary file next to ``path``; on success it replaces ``path`` (never a partial file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        with os.fdopen(fd, mode, **({"newline": ""} if "b" not in mode else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _csv_value(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return value


def write_csv(path: str | os.PathLike, records: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> Path:
    """Write ``records`` as CSV (floats by ``repr``, lists as JSON, ``None`` empty), atomically."""
    if columns is None:
        columns = []
        for r in records:
            columns += [k for k in r if k not in columns]
    with atomic_write(path) as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for r in records:
            writer.writerow([_csv_value(r.get(c)) for c in columns])
    return Path(path)


# -- running -----------------------------------------------------------------------------------------------


def parse_shard(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"i/N"`` (0-based: ``0 <= i < N``, as ``$SLURM_ARRAY_TASK_ID`` with ``--array=0-(N-1)``) -> ``(i, N)``."""
    if text is None:
        return None
    if isinstance(text, tuple):
        i, n = text
    else:
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
        if m is None:
            raise InvalidInputError(f"--shard must look like i/N (for example 0/4), got {text!r}")
        i, n = int(m.group(1)), int(m.group(2))
    if isinstance(i, bool) or isinstance(n, bool) or not isinstance(i, int) or not isinstance(n, int):
        raise InvalidInputError(f"shard must be two integers (i, N), got {text!r}")
    if n < 1 or not 0 <= i < n:
        raise InvalidInputError(f"--shard i/N needs N >= 1 and 0 <= i < N (shards are 0-based), got {i}/{n}")
    return i, n


def shard_cells(cells: Sequence[Any], shard: tuple[int, int] | None) -> list[Any]:
    """Shard ``i`` of ``N``: the cells at positions ``i, i + N, i + 2N, ...`` of the grid order."""
    if shard is None:
        return list(cells)
    i, n = parse_shard(shard)
    return list(cells)[i::n]


@dataclass(frozen=True)
class RunSummary:
    experiment: str
    directory: Path
    results_file: Path
    cells: int  # in this (shard of the) grid
    skipped: int  # already finished before this run
    computed: int
    seconds: float
    report_files: tuple[Path, ...] = ()


def _execute(cell: Callable[[Any], dict[str, Any]], config: Any) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    result = cell(config)
    if not isinstance(result, dict):
        raise InvalidInputError(f"a cell must return a dict, got {type(result).__name__}")
    return _finite(_plain(result)), time.perf_counter() - start


def _make_row(experiment: Experiment, config: Any, digest: str, result: dict[str, Any], seconds: float) -> Row:
    plain = _plain(config)
    return Row(
        hash=digest, experiment=experiment.name, type=plain["type"], config=plain["config"], result=result,
        seconds=float(seconds), version=__version__, finished=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _failed(config: Any, digest: str, exc: BaseException, saved: int) -> CellFailed:
    return CellFailed(f"cell {digest} ({canonical_json(config)}) failed: {exc}; the {saved} row(s) finished are saved, rerun to resume")


def run(
    experiment: str | Experiment,
    *,
    out: str | os.PathLike = "experiments/results",
    full: bool = False,
    jobs: int = 1,
    shard: str | tuple[int, int] | None = None,
    configs: Iterable[Any] | None = None,
    progress: bool | None = None,
    write_report: bool = True,
) -> RunSummary:
    """Compute every cell of ``experiment``'s grid (or of ``configs``) not yet in ``out/<name>/``.

    ``jobs > 1`` runs cells in a process pool; ``shard="i/N"`` runs only that shard and writes its
    own file. Rows are written as cells finish (flushed and fsync'd). An interruption (Ctrl-C,
    SIGKILL) loses at most the cells in flight; rerunning the same call resumes. After an unsharded
    run the report is regenerated from all rows (``write_report=False`` to skip it).
    """
    exp = get_experiment(experiment)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InvalidInputError(f"jobs must be a positive integer, got {jobs!r}")
    shard = parse_shard(shard)
    started = time.perf_counter()
    grid = list(exp.grid(bool(full)) if configs is None else configs)
    unique: dict[str, Any] = {}
    for config in grid:
        if not isinstance(config, exp.config_type):
            raise InvalidInputError(f"experiment {exp.name!r} takes {exp.config_type.__name__} configs, got {type(config).__name__}")
        unique.setdefault(config_hash(config), config)
    cells = shard_cells(list(unique.items()), shard)
    directory = Path(out) / exp.name
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / results_filename(shard)
    with ResultWriter(path) as writer:
        done = set(load_rows(directory, experiment=exp.name))
        todo = [(h, c) for h, c in cells if h not in done]
        skipped = len(cells) - len(todo)
        computed = 0
        from tqdm.auto import tqdm

        label = exp.name + ("" if shard is None else f" shard {shard[0]}/{shard[1]}")
        with tqdm(total=len(cells), initial=skipped, desc=label, unit="cell", disable=(not progress) if progress is not None else None) as bar:
            if jobs == 1 or len(todo) <= 1:
                for digest, config in todo:
                    try:
                        result, seconds = _execute(exp.cell, config)
                    except StrongLTHError as exc:
                        raise _failed(config, digest, exc, computed) from exc
                    writer.append(_make_row(exp, config, digest, result, seconds))
                    computed += 1
                    bar.update(1)
            else:
                computed = _run_pool(exp, todo, jobs, writer, bar)
    files: tuple[Path, ...] = ()
    if write_report and shard is None and exp.report is not None:
        files = tuple(report(directory, experiment=exp)) + (write_index(Path(out)),)
    return RunSummary(exp.name, directory, path, len(cells), skipped, computed, time.perf_counter() - started, files)


def _run_pool(exp: Experiment, todo: list[tuple[str, Any]], jobs: int, writer: ResultWriter, bar: Any) -> int:
    """Cells in a process pool; the parent alone writes, each row as its cell finishes. At most
    ``2 * jobs`` cells are submitted ahead, so an interruption abandons little work."""
    computed = 0
    pending: dict[Any, tuple[str, Any]] = {}
    queue = iter(todo)
    pool = ProcessPoolExecutor(max_workers=jobs)
    try:
        while True:
            while len(pending) < 2 * jobs:
                item = next(queue, None)
                if item is None:
                    break
                pending[pool.submit(_execute, exp.cell, item[1])] = item
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:  # in submission order among those finished together
                digest, config = pending.pop(future)
                try:
                    result, seconds = future.result()
                except StrongLTHError as exc:
                    raise _failed(config, digest, exc, computed) from exc
                writer.append(_make_row(exp, config, digest, result, seconds))
                computed += 1
                bar.update(1)
    except BaseException:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return computed


# -- merging and reports -----------------------------------------------------------------------------------


def experiment_dirs(root: str | os.PathLike) -> list[Path]:
    """Directories holding results files: ``root`` itself if it has ``*.jsonl`` files, else its
    sub-directories that do."""
    root = Path(root)
    if not root.is_dir():
        raise InvalidInputError(f"{root}: no such directory")
    if any(root.glob("*.jsonl")):
        return [root]
    return sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob("*.jsonl")))


@dataclass(frozen=True)
class MergeSummary:
    destination: Path
    appended: dict[str, int]  # experiment -> rows appended to its results.jsonl
    total: dict[str, int]  # experiment -> rows after the merge
    conflicts: tuple[str, ...]  # hashes found with different results (the first one was kept)
    report_files: tuple[Path, ...] = ()


def merge(sources: Sequence[str | os.PathLike], out: str | os.PathLike | None = None, *, write_report: bool = True) -> MergeSummary:
    """Append to ``out/<experiment>/results.jsonl`` every row of ``sources`` it lacks.

    A source is a sweep output directory (``--out``; its ``<experiment>/`` sub-directories are
    read) or one experiment directory; every ``*.jsonl`` in it counts (shard files included).
    ``out`` defaults to the first source, so ``merge([DIR])`` folds DIR's shard files into its
    ``results.jsonl``. Rows already present (same hash) are not appended again; a row whose result
    differs from the one kept (a non-deterministic cell, or another package version) is reported in
    ``conflicts``. Idempotent; append-only; reports are regenerated unless ``write_report=False``.
    """
    if isinstance(sources, (str, os.PathLike)) or not sources:
        raise InvalidInputError("merge needs at least one directory")
    destination = Path(out if out is not None else sources[0])
    incoming: dict[str, list[Row]] = {}
    for source in sources:
        for directory in experiment_dirs(source):
            for path in _result_files(directory):
                for row in read_rows(path):
                    incoming.setdefault(row.experiment, []).append(row)
    if not incoming:
        raise InvalidInputError(f"no result rows found in {', '.join(str(s) for s in sources)}")
    appended, total, conflicts, files = {}, {}, [], []
    for name in sorted(incoming):
        directory = destination / name
        with ResultWriter(directory / RESULTS) as writer:
            have = {row.hash: row for row in read_rows(directory / RESULTS)}
            count = 0
            for row in incoming[name]:
                kept = have.get(row.hash)
                if kept is None:
                    writer.append(row)
                    have[row.hash] = row
                    count += 1
                elif kept.result != row.result and row.hash not in conflicts:
                    conflicts.append(row.hash)
        appended[name], total[name] = count, len(have)
        if write_report:
            exp = EXPERIMENTS.get(name) or _maybe_experiment(name)
            if exp is not None and exp.report is not None:
                files += report(directory, experiment=exp)
    if write_report:
        files.append(write_index(destination))
    return MergeSummary(destination, appended, total, tuple(conflicts), tuple(files))


def _maybe_experiment(name: str) -> Experiment | None:
    try:
        return get_experiment(name)
    except InvalidInputError:
        return None


def cells_table(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """One flat record per row: ``hash``, the config fields, then the result fields (``result_``
    prefixed where a name clashes), ``seconds``."""
    out = []
    for row in rows:
        record: dict[str, Any] = {"hash": row.hash, **row.config}
        for k, v in row.result.items():
            record[k if k not in record else f"result_{k}"] = v
        record["seconds"] = row.seconds
        out.append(record)
    return out


def report(directory: str | os.PathLike, *, experiment: str | Experiment | None = None) -> list[Path]:
    """Regenerate the report of the experiment whose rows are in ``directory``: ``cells.csv`` (one
    line per cell) and the experiment's own CSV, PNG and ``summary.md``, each written atomically."""
    directory = Path(directory)
    rows_by_hash = load_rows(directory)
    if not rows_by_hash:
        raise InvalidInputError(f"{directory}: no result rows to report")
    names = sorted({row.experiment for row in rows_by_hash.values()})
    if experiment is None:
        if len(names) != 1:
            raise InvalidInputError(f"{directory} mixes experiments {names}; pass experiment=")
        experiment = names[0]
    exp = get_experiment(experiment)
    rows = [row for row in rows_by_hash.values() if row.experiment == exp.name]
    rows.sort(key=lambda r: canonical_json_from_row(r))
    files = [write_csv(directory / "cells.csv", cells_table(rows))]
    if exp.report is not None:
        files += list(exp.report(directory, rows))
    return files


def canonical_json_from_row(row: Row) -> str:
    """The canonical text of a row's config (sorting rows this way makes reports deterministic)."""
    return _canonical_text(row.type, row.config)


def format_duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def write_index(root: str | os.PathLike) -> Path:
    """``root/README.md``: one section per experiment directory under ``root`` (its description,
    its ``summary.md`` and its figure), written atomically; ``root/sweep-index.md`` instead when
    ``root`` holds a README.md that this function did not write."""
    root = Path(root)
    sections = []
    import stronglth.experiments  # noqa: F401  (registers the built-in experiments, in their order)

    order = list(EXPERIMENTS)
    found = [p for p in root.iterdir() if p.is_dir() and any(p.glob("*.jsonl"))]
    for directory in sorted(found, key=lambda p: (order.index(p.name) if p.name in order else len(order), p.name)):
        exp = _maybe_experiment(directory.name)
        if exp is None or exp.hidden:
            continue
        rows = load_rows(directory, experiment=exp.name)
        lines = [f"## {exp.name}", "", f"{exp.description} ({len(rows)} cells).", "", f"[summary]({exp.name}/summary.md)"]
        lines += [f"![{exp.name}]({exp.name}/{png.name})" for png in sorted(directory.glob("*.png"))]
        sections.append("\n".join(lines))
    text = (f"{INDEX_MARK}\n# Sweep results\n\nWritten by `stronglth sweep` / `stronglth plot` from the rows in each"
            f" `<experiment>/results.jsonl` (format {FORMAT}); regenerate with `stronglth plot {root}`.\n\n"
            + "\n\n".join(sections) + "\n")
    path = root / "README.md"
    if path.exists() and not path.read_text(errors="replace").startswith(INDEX_MARK):
        path = root / "sweep-index.md"  # never overwrite a README.md someone else wrote
    with atomic_write(path) as f:
        f.write(text)
    return path
