"""The one argument checker of the package: each function returns the checked value, converted to
its canonical type, or raises a package error naming the argument, the value and what is allowed.

Integers are never taken from floats (``3.0`` is refused where a count is expected), booleans are
never numbers, and strings are never coerced.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
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


def boolean(value: Any, name: str) -> bool:
    """``True`` or ``False`` (a Python or numpy bool); anything else, ``"no"``, ``0``, ``1`` or ``None``
    included, is refused rather than read by its truthiness."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidInputError(f"{name} must be True or False, got {name}={value!r} ({type(value).__name__})")
    return bool(value)


def optional_boolean(value: Any, name: str) -> bool | None:
    """``None`` (meaning "the default"), ``True`` or ``False``; anything else is refused."""
    if value is None:
        return None
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidInputError(f"{name} must be True, False or None, got {name}={value!r} ({type(value).__name__})")
    return bool(value)


def non_negative_int(value: Any, name: str) -> int:
    """An integer ``>= 0`` (bools and floats are refused, even 3.0)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidInputError(f"{name} must be a non-negative integer, got {value!r} ({type(value).__name__})")
    if int(value) < 0:
        raise InvalidInputError(f"{name} must be a non-negative integer, got {int(value)}")
    return int(value)


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


def negative_slope(value: Any, name: str = "negative_slope") -> float:
    """The slope ``a`` of a leaky ReLU ``s_a(t) = max(t, a t)``: a real number with ``0 <= a < 1``
    (``0`` is the ReLU; ``a >= 1`` would make the activation linear or non-monotone, and every bound of
    docs/theory.md §14.6 uses that ``s_a`` is 1-Lipschitz and positively homogeneous)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidInputError(f"{name} must be a number with 0 <= {name} < 1 (0: ReLU), got {value!r}")
    value = float(value)
    if not (0.0 <= value < 1.0):
        raise InvalidInputError(f"{name} must satisfy 0 <= {name} < 1 (0: ReLU; leaky ReLU max(t, a t)), got {value!r}")
    return value + 0.0  # -0.0 -> 0.0


def non_negative_float(value: Any, name: str) -> float:
    """A finite real number ``>= 0``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidInputError(f"{name} must be a non-negative number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise InvalidInputError(f"{name} must be a finite non-negative number, got {value}")
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


def real_number(value: Any, name: str) -> float:
    """A real number, not NaN (infinities allowed; bools and strings refused)."""
    if isinstance(value, (bool, np.bool_, str, bytes)) or not isinstance(value, (numbers.Real, np.ndarray)):
        raise InvalidInputError(f"{name} must be a real number, got {name}={value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a real number, got {name}={value!r}") from exc
    if math.isnan(x):
        raise InvalidInputError(f"{name} must not be NaN, got {name}={value!r}")
    return x


def probability(value: Any, name: str) -> float:
    """A number strictly between 0 and 1 (a failure probability such as ``delta``)."""
    x = real_number(value, name)
    if not 0.0 < x < 1.0:
        raise InvalidInputError(f"{name} must lie in (0, 1), got {name}={value!r}")
    return x


def float_array(value: Any, name: str) -> np.ndarray:
    """A float64 array of real numbers without NaN (scalars give 0-d arrays)."""
    if isinstance(value, (str, bytes)):
        raise InvalidInputError(f"{name} must be numeric, got {value!r}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be numeric, got {value!r}") from exc
    if np.isnan(arr).any():
        raise InvalidInputError(f"{name} must not contain NaN, got {value!r}")
    return arr


def positive_array(value: Any, name: str) -> np.ndarray:
    """A float64 array of finite, strictly positive numbers."""
    arr = float_array(value, name)
    if not (np.all(arr > 0) and np.all(np.isfinite(arr))):
        raise InvalidInputError(f"{name} must be finite and > 0, got {name}={value!r}")
    return arr


def choice(value: Any, name: str, options: Sequence[str]) -> str:
    """One of ``options`` (compared exactly: no case folding, no truthiness)."""
    if not isinstance(value, str) or value not in options:
        raise InvalidInputError(f"{name} must be one of {tuple(options)}, got {name}={value!r}")
    return value


def dims(value: Any, name: str = "dims") -> tuple[int, ...]:
    """Layer widths ``(n_0, n_1, ..., n_l)``: at least two positive integers (floats refused, even 3.0)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise InvalidInputError(f"{name} must be a sequence (n_0, n_1, ..., n_l), got {name}={value!r}")
    if len(value) < 2:
        raise InvalidInputError(f"{name} must have at least two entries (n_0, n_1), got {name}={tuple(value)!r}")
    return tuple(positive_int(n, f"{name}[{i}]") for i, n in enumerate(value))
