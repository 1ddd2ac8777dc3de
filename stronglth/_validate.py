"""Argument checks shared by the package: each raises a package error that names the problem."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from stronglth.errors import InvalidInputError, ShapeError


def seed(value: Any, name: str = "seed") -> int:
    """A seed is a non-negative Python or numpy integer (not a bool, not a float)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidInputError(f"{name} must be a non-negative integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if value < 0:
        raise InvalidInputError(f"{name} must be a non-negative integer, got {value}")
    return value


def positive_int(value: Any, name: str) -> int:
    """A strictly positive integer (bools and floats are refused, even 3.0)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidInputError(f"{name} must be a positive integer, got {value!r} ({type(value).__name__})")
    if int(value) <= 0:
        raise InvalidInputError(f"{name} must be a positive integer, got {int(value)}")
    return int(value)


def positive_float(value: Any, name: str) -> float:
    """A finite, strictly positive real number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidInputError(f"{name} must be a positive number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise InvalidInputError(f"{name} must be a finite positive number, got {value}")
    return value


def real_matrix(value: Any, name: str, *, allow_empty: bool = False) -> np.ndarray:
    """A finite real 2-D floating-point array, returned as a float64 copy.

    Integer, boolean and complex arrays are refused rather than silently converted: a weight
    matrix of integers is almost always a mistake, and a complex one is meaningless here.
    """
    array = np.asarray(value)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.floating)):
        raise InvalidInputError(
            f"{name} must be a real floating-point matrix, got dtype {array.dtype}"
            + (" (convert integers explicitly with .astype(float))" if np.issubdtype(array.dtype, np.integer) else "")
        )
    if array.ndim != 2:
        raise ShapeError(f"{name} must be 2-D, got shape {array.shape}")
    if not allow_empty and 0 in array.shape:
        raise ShapeError(f"{name} is empty (shape {array.shape}): every layer needs at least one unit")
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        raise InvalidInputError(f"{name} has a non-finite entry {array[tuple(bad)]} at {tuple(int(i) for i in bad)}")
    return np.array(array, dtype=np.float64, copy=True)


def inputs(x: Any, dim: int, name: str = "X") -> tuple[np.ndarray, bool]:
    """Network inputs: shape (N, dim) or a single point (dim,). Returns float64 (N, dim) and whether it was 1-D."""
    array = np.asarray(x)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise InvalidInputError(f"{name} must be a real array, got dtype {array.dtype}")
    single = array.ndim == 1
    if single:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != dim:
        raise ShapeError(f"{name} must have shape (N, {dim}) or ({dim},), got {np.shape(x)}")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{name} has non-finite entries")
    return array.astype(np.float64, copy=False), single
