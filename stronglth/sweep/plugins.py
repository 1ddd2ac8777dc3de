"""Experiments from outside the package: a module file, a dotted module, or an installed entry point.

A plugin experiment is a module defining ``EXPERIMENT``, a :class:`~stronglth.sweep.Experiment`
(docs/guide-experiment.md). It is found as

- a file, ``stronglth sweep --module my_exp.py NAME`` (:func:`load_experiment`): the file is run as
  a fresh module (registered in ``sys.modules`` under a name of its own, so that the process pool's
  forked workers can run its cells);
- a dotted module importable from the current directory or ``sys.path``,
  ``stronglth sweep --module mypkg.width_vs_dim NAME``;
- an entry point of the group :data:`ENTRY_POINT_GROUP` of an installed package, named like the
  experiment and resolving to an Experiment or to a module defining ``EXPERIMENT``
  (``[project.entry-points."stronglth.experiments"] width-vs-dim = "mypkg.width_vs_dim"``), run as
  ``stronglth sweep NAME`` (:func:`load_entry_point`).

The loaded experiment carries its :attr:`~stronglth.sweep.Experiment.origin`, and a run records it in
``OUT/<name>/experiment.json`` (:data:`MANIFEST`, format :data:`MANIFEST_FORMAT`), which is how
``stronglth plot`` and ``stronglth sweep merge`` find the experiment of a results directory again
(:func:`load_origin`). Every problem (no such file, an error while importing the user's module, no
``EXPERIMENT``, one of the wrong type, a name that differs from the one asked for or that a built-in
already has) is one :class:`~stronglth.errors.InvalidInputError` naming the file and what to do.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import pickle
import re
import sys
import traceback
from collections.abc import Collection
from pathlib import Path
from types import ModuleType
from typing import Any

from stronglth._io import write_text
from stronglth.errors import InvalidInputError
from stronglth.sweep.config import SweepConfig
from stronglth.sweep.experiment import Experiment

__all__ = [
    "ENTRY_POINT_GROUP",
    "MANIFEST",
    "MANIFEST_FORMAT",
    "NAME_PATTERN",
    "check_experiment",
    "entry_point_names",
    "load_entry_point",
    "load_experiment",
    "load_origin",
    "module_argument",
    "read_manifest",
    "pack_by_value",
    "unpack",
    "write_manifest",
]

ENTRY_POINT_GROUP = "stronglth.experiments"
"""The entry-point group of installed plugin experiments (one entry point per experiment, named like it)."""
MANIFEST = "experiment.json"
"""The file in ``OUT/<name>/`` that records where a plugin experiment comes from."""
MANIFEST_FORMAT = "stronglth-experiment/1"
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]*"
"""An experiment's name: it is a directory name and a command-line word."""
RESERVED = ("merge",)  # `stronglth sweep merge` is a command


def check_experiment(obj: Any, where: str, *, name: str | None = None, reserved: Collection[str] = ()) -> Experiment:
    """``obj`` if it is a well-formed :class:`~stronglth.sweep.Experiment` (named ``name`` when given,
    and not one of the ``reserved`` names of the built-ins), else an InvalidInputError naming ``where``."""
    if not isinstance(obj, Experiment):
        raise InvalidInputError(
            f"{where}: EXPERIMENT is a {type(obj).__name__}, not a stronglth.sweep.Experiment"
            " (EXPERIMENT = Experiment(name, ConfigType, grid, cell, report, description))"
        )
    if not isinstance(obj.name, str) or re.fullmatch(NAME_PATTERN, obj.name) is None:
        raise InvalidInputError(
            f"{where}: experiment name {obj.name!r} is not a plain name (letters, digits, '.', '_', '-'; it names a directory)"
        )
    if name is not None and obj.name != name:
        raise InvalidInputError(f"{where} defines experiment {obj.name!r}, not {name!r}; ask for {obj.name!r} (or rename it)")
    if obj.name in reserved or obj.name in RESERVED:
        raise InvalidInputError(
            f"{where} defines experiment {obj.name!r}, the name of a built-in"
            f" {'command' if obj.name in RESERVED else 'experiment'}; give yours another name"
        )
    if not (
        isinstance(obj.config_type, type)
        and issubclass(obj.config_type, SweepConfig)
        and dataclasses.is_dataclass(obj.config_type)
    ):
        raise InvalidInputError(
            f"{where}: experiment {obj.name!r} needs a config type that is a @dataclass(frozen=True) subclass of"
            f" stronglth.sweep.SweepConfig, got {obj.config_type!r}"
        )
    for field, value in (("grid", obj.grid), ("cell", obj.cell)):
        if not callable(value):
            raise InvalidInputError(f"{where}: experiment {obj.name!r} needs a callable {field}, got {type(value).__name__}")
    if obj.report is not None and not callable(obj.report):
        raise InvalidInputError(f"{where}: experiment {obj.name!r}: report must be callable or None")
    return obj


def _is_path(spec: str) -> bool:
    return spec.endswith(".py") or "/" in spec or os.sep in spec or Path(spec).is_file()


def _failure(where: Path | str, exc: BaseException) -> InvalidInputError:
    """One line for an exception raised while importing the user's module: the file, the line, the error."""
    line = ""
    if isinstance(exc, SyntaxError) and exc.lineno is not None:
        line = f", line {exc.lineno}"
    else:
        mine = os.path.abspath(where)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) == mine]
        if frames:
            line = f", line {frames[-1].lineno}"
    text = " ".join(str(exc).split()) or "(no message)"
    return InvalidInputError(f"{where}{line}: importing it failed: {type(exc).__name__}: {text}")


def _load_file(path: Path) -> ModuleType:
    if not path.exists():
        raise InvalidInputError(
            f"{path}: no such file (--module takes a .py file or a module importable from the current directory)"
        )
    if not path.is_file():
        raise InvalidInputError(
            f"{path}: not a file (--module takes a .py file or a module importable from the current directory)"
        )
    path = path.resolve()
    stem = re.sub(r"\W", "_", path.stem)
    module_name = f"_stronglth_plugin_{stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:10]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise InvalidInputError(f"{path}: cannot be imported as a Python module (a .py file is needed)")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(module_name)
    sys.modules[module_name] = module  # dataclasses and pickle look the module up by name
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        if previous is None:
            sys.modules.pop(module_name, None)
        else:
            sys.modules[module_name] = previous
        raise _failure(path, exc) from None
    return module


def _load_dotted(name: str) -> ModuleType:
    if re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", name) is None:
        raise InvalidInputError(f"--module {name!r}: neither a .py file nor a dotted module name")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)  # as `python -m` does: modules next to the user are importable
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            raise InvalidInputError(
                f"no module named {name!r} in the current directory ({cwd}) or on sys.path; pass a file (--module my_exp.py)"
                " or a module of an installed package"
            ) from None
        raise _failure(_module_file(name), exc) from None
    except (Exception, SystemExit) as exc:
        raise _failure(_module_file(name), exc) from None


def _module_file(name: str) -> str:
    module = sys.modules.get(name)
    where = getattr(module, "__file__", None)
    if where is None:
        try:
            found = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            found = None
        where = getattr(found, "origin", None)
    return str(where or name)


def _experiment_of(module: ModuleType, where: str, name: str | None, reserved: Collection[str]) -> Experiment:
    if not hasattr(module, "EXPERIMENT"):
        others = [k for k, v in vars(module).items() if isinstance(v, Experiment)]
        hint = f" (it has an Experiment called {others[0]}: name it EXPERIMENT)" if others else ""
        raise InvalidInputError(
            f"{where} defines no EXPERIMENT{hint}; a plugin module ends with EXPERIMENT = stronglth.sweep.Experiment(...)"
            " (docs/guide-experiment.md)"
        )
    return check_experiment(module.EXPERIMENT, where, name=name, reserved=reserved)


def load_experiment(module: str | os.PathLike, name: str | None = None, *, reserved: Collection[str] = ()) -> Experiment:
    """The ``EXPERIMENT`` of ``module``: a ``.py`` file (a path) or a dotted module name importable
    from the current directory or ``sys.path``; checked by :func:`check_experiment` (``name``: the
    name the caller asked for; ``reserved``: the built-ins' names, which a plugin may not take).
    Returns it with its :attr:`~stronglth.sweep.Experiment.origin` set."""
    spec = os.fspath(module)
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidInputError(f"--module needs a .py file or a dotted module name, got {module!r}")
    if _is_path(spec):
        path = Path(spec)
        loaded = _load_file(path)
        origin, where = f"file:{path.resolve()}", str(path)
    else:
        loaded = _load_dotted(spec)
        origin, where = f"module:{spec}", _module_file(spec)
    experiment = _experiment_of(loaded, where, name, reserved)
    return dataclasses.replace(experiment, origin=origin)


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def entry_point_names() -> list[str]:
    """The names of the installed entry points of :data:`ENTRY_POINT_GROUP` (none is loaded)."""
    return sorted({ep.name for ep in _entry_points()})


def load_entry_point(name: str, *, reserved: Collection[str] = ()) -> Experiment:
    """The experiment of the installed entry point ``name`` (group :data:`ENTRY_POINT_GROUP`): its
    value is an Experiment (``"pkg.mod:EXPERIMENT"``) or a module defining ``EXPERIMENT``
    (``"pkg.mod"``); the experiment must be called ``name``."""
    found = [ep for ep in _entry_points() if ep.name == name]
    if not found:
        raise InvalidInputError(f"no installed entry point {name!r} in the group {ENTRY_POINT_GROUP!r}")
    ep = found[0]
    where = f"entry point {name!r} ({ep.value}) of the group {ENTRY_POINT_GROUP!r}"
    try:
        obj = ep.load()
    except (Exception, SystemExit) as exc:
        raise _failure(_module_file(ep.module), exc) from None
    experiment = (
        _experiment_of(obj, where, name, reserved)
        if isinstance(obj, ModuleType)
        else check_experiment(obj, where, name=name, reserved=reserved)
    )
    return dataclasses.replace(experiment, origin=f"entry-point:{name}")


def load_origin(origin: str, name: str, *, reserved: Collection[str] = ()) -> Experiment:
    """The experiment ``name`` again from an :attr:`~stronglth.sweep.Experiment.origin` string
    (``file:PATH``, ``module:NAME`` or ``entry-point:NAME``), as recorded in a results directory."""
    kind, _, value = str(origin).partition(":")
    if kind == "file":
        return load_experiment(Path(value), name, reserved=reserved)
    if kind == "module":
        return load_experiment(value, name, reserved=reserved)
    if kind == "entry-point":
        return load_entry_point(value, reserved=reserved)
    raise InvalidInputError(f"unknown experiment origin {origin!r} (expected file:PATH, module:NAME or entry-point:NAME)")


def module_argument(origin: str) -> str | None:
    """What to pass to ``--module`` for an origin: the file or the module; ``None`` for an entry point."""
    kind, _, value = str(origin).partition(":")
    return value if kind in ("file", "module") else None


def write_manifest(directory: str | os.PathLike, experiment: Experiment) -> Path | None:
    """Record ``experiment``'s origin in ``directory/experiment.json`` (atomically, and only when it
    changes); nothing for a built-in (no origin)."""
    if not experiment.origin:
        return None
    path = Path(directory) / MANIFEST
    text = json.dumps(
        {"format": MANIFEST_FORMAT, "name": experiment.name, "origin": experiment.origin, "description": experiment.description},
        indent=1,
        sort_keys=True,
    )
    if path.is_file() and path.read_text(errors="replace").strip() == text:
        return path
    return write_text(path, text + "\n")


def read_manifest(directory: str | os.PathLike) -> dict[str, str] | None:
    """The record of ``directory/experiment.json`` (``name``, ``origin``, ``description``), or
    ``None`` when there is none; a damaged one is an error naming the file."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    try:
        obj = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{path}: not a {MANIFEST_FORMAT} record ({exc}); delete it and pass --module") from None
    if (
        not isinstance(obj, dict)
        or obj.get("format") != MANIFEST_FORMAT
        or not all(isinstance(obj.get(k), str) for k in ("name", "origin"))
    ):
        raise InvalidInputError(f"{path}: not a {MANIFEST_FORMAT} record; delete it and pass --module")
    return {"name": obj["name"], "origin": obj["origin"], "description": str(obj.get("description", ""))}


def pack_by_value(cell: Any, config: Any) -> bytes:
    """``(cell, config)`` as bytes that a Dask worker can load without importing the plugin file's
    module (it has a private name only this process knows): cloudpickle serialises that module's
    functions and classes by value. :func:`unpack` is ``pickle.loads`` (cloudpickle on the worker)."""
    import cloudpickle  # type: ignore[import-untyped]  # present wherever Dask is

    module = sys.modules.get(getattr(cell, "__module__", "") or "")
    if module is not None and module.__name__.startswith("_stronglth_plugin_"):
        cloudpickle.register_pickle_by_value(module)
    return cloudpickle.dumps((cell, config))


def unpack(payload: bytes) -> tuple[Any, Any]:
    """The ``(cell, config)`` of :func:`pack_by_value`."""
    cell, config = pickle.loads(payload)
    return cell, config
