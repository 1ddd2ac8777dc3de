"""Cell configs and their names: typed frozen dataclasses, canonical JSON, hashes (as in open_lth).

A cell is a :class:`SweepConfig` (a frozen dataclass whose fields are coerced to their declared
types), and its result is a pure function of that config (seeds included: no global random state,
no clock), so a cell computed twice, in any process, on any shard, gives the same row. A cell is
named by a hash of its config (:func:`config_hash`): the SHA-256 of a canonical JSON text
(:func:`canonical_json`: the type name and every field, keys sorted, tuples as lists, floats by
``repr``), cut to :data:`HASH_CHARS` hex digits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglth.errors import InvalidInputError

__all__ = ["HASH_CHARS", "SweepConfig", "canonical_json", "canonical_text", "config_hash", "hash_text", "plain"]

HASH_CHARS = 16
"""Hex digits of SHA-256 kept in a cell's name (64 bits: collisions are not a concern for grids)."""


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
        return tuple(_coerce(v, a, f"{name}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=False)))
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
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


def plain(value: Any) -> Any:
    """JSON-ready Python values: tuples as lists, numpy scalars as Python numbers, dataclasses as
    ``{"type": name, "config": fields}``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "type": type(value).__name__,
            "config": {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if value is None or isinstance(value, str):
        return value
    raise InvalidInputError(f"cannot store a {type(value).__name__} in a sweep config or result: {value!r}")


def canonical_text(type_name: str, fields: dict[str, Any]) -> str:
    try:
        return json.dumps(
            {"type": type_name, "config": fields}, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
        )
    except ValueError as exc:
        raise InvalidInputError(f"a {type_name} config must be finite: {exc}") from None


def canonical_json(config: Any) -> str:
    """The canonical text of a config: ``{"config": {fields}, "type": "<class name>"}`` as JSON with
    sorted keys, no spaces, ASCII only, tuples as lists and floats by ``repr`` (Python's shortest
    round-trip form, the same on every platform and Python >= 3.1). Non-finite floats are refused."""
    if not (dataclasses.is_dataclass(config) and not isinstance(config, type)):
        raise InvalidInputError(f"a sweep config must be a dataclass instance, got {type(config).__name__}")
    fields = plain(config)
    return canonical_text(fields["type"], fields["config"])


def hash_text(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:HASH_CHARS]


def config_hash(config: Any) -> str:
    """The cell's name: the first :data:`HASH_CHARS` hex digits of SHA-256 of :func:`canonical_json`."""
    return hash_text(canonical_json(config))
