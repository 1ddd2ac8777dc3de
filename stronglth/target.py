"""Target networks and the assumptions of Malach et al. (2020), docs/theory.md §1 and §12.

A target is a ReLU network ``F(x) = W_l s(W_{l-1} ... s(W_1 x + b_1) ...) + b_l`` on the unit ball
whose layers satisfy ``||W_i||_2 <= 1`` (spectral norm) and ``max |W_i[o, j]| <= 1/sqrt(n_{i-1})``
(max-norm). Biases are optional (none: the setting of Malach et al., positively homogeneous); where
a layer has one, its entries satisfy ``|b_i[o]| <= 1`` (:data:`BIAS_MAX_ABS`, bounded parameters as
in Fischer & Burkholz 2021, docs/theory.md §12). :func:`random_target` draws admissible targets
from a registry of families, with ``biases=True`` also bias vectors. The hidden activation may be a
leaky ReLU ``max(t, a t)`` (``negative_slope=a``, ``0 <= a < 1``, docs/theory.md §14.6); the
assumptions bound the weights and biases only, whatever the activation.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stronglth import _validate
from stronglth.errors import AssumptionError, InvalidInputError, TicketFormatError, TooLargeError
from stronglth.relu import ReLUNetwork

__all__ = ["TargetNetwork", "LayerNorms", "random_target", "load_target", "TARGET_FAMILIES", "MAX_TARGET_PARAMETERS"]
__all__ += ["BIAS_MAX_ABS"]

BIAS_MAX_ABS = 1.0
"""The bound on every bias entry of a target, ``|b_i[o]| <= 1`` (docs/theory.md §12): the parameters of
the target are bounded, as Fischer & Burkholz (2021) assume."""

MAX_TARGET_PARAMETERS = 2**26
"""The most weights a target may have, in :func:`random_target` and :func:`load_target` (2**26, 512 MiB
in float64; drawing and checking a target takes a few times that). Larger requests raise
:class:`~stronglth.errors.TooLargeError` before anything is allocated."""


@dataclass(frozen=True)
class LayerNorms:
    """The two norms the assumptions bound, for one layer, and their bounds."""

    layer: int
    spectral_norm: float
    max_abs: float
    max_abs_bound: float  # 1 / sqrt(fan_in)
    bias_max_abs: float | None = None  # max |b_i[o]|, None for a layer without bias (bound: BIAS_MAX_ABS)


class TargetNetwork(ReLUNetwork):
    """A target network of depth ``l`` (docs/theory.md §1), optionally with biases (§12).

    Args:
        weights: ``W_1 .. W_l`` as for :class:`~stronglth.relu.ReLUNetwork`.
        biases: ``None`` (bias-free, the setting of Malach et al.) or one vector-or-``None`` per layer.
        negative_slope: the hidden activation's slope ``a``, ``0 <= a < 1``: the ReLU (``0``, the default)
            or the leaky ReLU ``max(t, a t)``, which only ``method="burkholz"`` constructs (§14.6).

    Construction does not check the assumptions; :meth:`check` does, and every construction calls it.
    Empty layers are refused here (unlike a compacted ticket, a target has no width-0 layer), and a
    target has no output scale (that belongs to a ticket of a rescaled target).
    """

    _allow_empty_hidden = False
    _allow_output_scale = False

    def __init__(self, weights: Sequence[Any], biases: Sequence[Any] | None = None, *, negative_slope: float = 0.0):
        super().__init__(weights, biases, negative_slope=negative_slope)

    def layer_norms(self) -> tuple[LayerNorms, ...]:
        """Spectral norm and max-norm of each layer, with the max-norm bound ``1/sqrt(n_{i-1})``, and
        ``max |b_i|`` for a layer with a bias."""
        return tuple(
            LayerNorms(
                layer=i,
                spectral_norm=float(np.linalg.norm(w, 2)),
                max_abs=float(np.max(np.abs(w))),
                max_abs_bound=float(1.0 / np.sqrt(w.shape[1])),
                bias_max_abs=float(np.max(np.abs(b))) if given else None,
            )
            for i, (w, b, given) in enumerate(zip(self.weights, self.biases, self.bias_layers, strict=True), start=1)
        )

    def check(self, tolerance: float = 1e-9) -> TargetNetwork:
        """Raise :class:`~stronglth.errors.AssumptionError` unless every layer satisfies
        ``||W_i||_2 <= 1`` and ``max|W_i| <= 1/sqrt(n_{i-1})`` and, where it has a bias,
        ``max|b_i| <= 1`` (:data:`BIAS_MAX_ABS`, docs/theory.md §12), each up to ``tolerance``.

        Returns ``self`` so that ``target.check()`` chains.
        """
        if isinstance(tolerance, bool) or not np.isfinite(tolerance) or tolerance < 0:
            raise InvalidInputError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
        for norms in self.layer_norms():
            if norms.spectral_norm > 1.0 + tolerance:
                raise AssumptionError(
                    f"layer {norms.layer}: spectral norm {norms.spectral_norm:.6g} exceeds 1"
                    " (Malach et al. assume ||W_i||_2 <= 1)"
                    f"{_RESCALE}"
                )
            if norms.max_abs > norms.max_abs_bound + tolerance:
                raise AssumptionError(
                    f"layer {norms.layer}: max-norm {norms.max_abs:.6g} exceeds 1/sqrt(fan_in) = {norms.max_abs_bound:.6g}"
                    " (Malach et al. assume |W_i[o, j]| <= 1/sqrt(n_{i-1}))"
                    f"{_RESCALE}"
                )
            if norms.bias_max_abs is not None and norms.bias_max_abs > BIAS_MAX_ABS + tolerance:
                raise AssumptionError(
                    f"layer {norms.layer}: bias max-norm {norms.bias_max_abs:.6g} exceeds {BIAS_MAX_ABS:g}"
                    " (biases are assumed bounded, |b_i[o]| <= 1, docs/theory.md §12)"
                    f"{_RESCALE}"
                )
        return self

    def is_admissible(self, tolerance: float = 1e-9) -> bool:
        """Whether :meth:`check` would pass."""
        try:
            self.check(tolerance)
        except AssumptionError:
            return False
        return True

    def scale_to_assumptions(self) -> tuple[TargetNetwork, float]:
        """An admissible target ``F'`` and the factor ``c >= 1`` with ``F = c F'``.

        Each layer is divided by ``c_i`` (:meth:`assumption_scales`; layers that already satisfy the
        assumptions are left alone) and ``c = prod c_i``; a bias ``b_i`` is divided by
        ``C_i = c_1 ... c_i``, so that layer ``i`` of ``F'`` is layer ``i`` of ``F`` divided by ``C_i``
        (``s(z / C) = s(z) / C`` for ``C > 0``, docs/theory.md §1.1, §12; so for a leaky ReLU, whose
        slope ``F'`` keeps). Approximating ``F'`` to ``eps / c`` is approximating ``F`` to ``eps`` after
        multiplying the output by ``c``.
        """
        scaled, scaled_biases, factor = [], [], 1.0
        for c_i, w, b, given in zip(self.assumption_scales(), self.weights, self.biases, self.bias_layers, strict=True):
            factor *= c_i
            scaled.append(w / c_i)
            scaled_biases.append(b / factor if given else None)
        biases = scaled_biases if self.has_biases else None
        return TargetNetwork(scaled, biases, negative_slope=self.negative_slope), factor

    def assumption_scales(self) -> tuple[float, ...]:
        """The per-layer factors ``c_i = max(1, ||W_i||_2, sqrt(n_{i-1}) max|W_i|, max|b_i| / C_{i-1})``
        of :meth:`scale_to_assumptions` (``c = prod c_i``, ``C_{i-1} = c_1 ... c_{i-1}``; the bias term
        only for a layer with a bias: without biases, ``c_i = max(1, ||W_i||_2, sqrt(n_{i-1}) max|W_i|)``)."""
        scales: list[float] = []
        before = 1.0  # C_{i-1}
        for n in self.layer_norms():
            c_i = max(1.0, n.spectral_norm, n.max_abs / n.max_abs_bound)
            if n.bias_max_abs is not None:
                c_i = max(c_i, n.bias_max_abs / (BIAS_MAX_ABS * before))
            scales.append(c_i)
            before *= c_i
        return tuple(scales)


# -- families of admissible targets ---------------------------------------------------------


_RESCALE = "; use construct(..., rescale=True) (CLI: --rescale) or scale_to_assumptions()"


def _fit_to_assumptions(w: np.ndarray) -> np.ndarray:
    """Scale a matrix down so that both assumptions hold, at least one of them with equality."""
    scale = max(np.linalg.norm(w, 2), np.max(np.abs(w)) * np.sqrt(w.shape[1]))
    return w / scale if scale > 0 else w


def _gaussian(rng: np.random.Generator, n_out: int, n_in: int) -> np.ndarray:
    """i.i.d. Gaussian entries, rescaled until both assumptions hold (one of them tight)."""
    return _fit_to_assumptions(rng.standard_normal((n_out, n_in)))


def _hadamard_rows(n: int, rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` of the Sylvester-Hadamard matrix of order ``n`` (a power of two), without the
    ``n x n`` matrix: ``H[r, c] = (-1)^popcount(r & c)`` (the recursion ``[[H, H], [H, -H]]`` flips
    the sign exactly when both indices have the new top bit)."""
    bits = np.bitwise_and(np.asarray(rows, dtype=np.int64)[:, None], np.arange(n, dtype=np.int64)[None, :])
    parity = np.zeros_like(bits)
    while np.any(bits):
        parity ^= bits & 1
        bits >>= 1
    return 1.0 - 2.0 * parity


def _max_norm(rng: np.random.Generator, n_out: int, n_in: int) -> np.ndarray:
    """Entries all of one magnitude, as close to the max-norm bound ``1/sqrt(n_in)`` as the
    spectral norm allows.

    When ``n_in`` is a power of two and ``n_out <= n_in``, the rows are distinct rows of a
    Sylvester-Hadamard matrix (random row choice, column signs and order): every entry is exactly
    ``+-1/sqrt(n_in)`` and the rows are orthonormal, so both assumptions hold with equality.
    Otherwise a random sign matrix divided by ``max(sqrt(n_in), ||S||_2)``.
    """
    if n_out <= n_in and n_in & (n_in - 1) == 0:
        rows = rng.choice(n_in, size=n_out, replace=False)
        signs = rng.choice([-1.0, 1.0], size=n_in)
        return (_hadamard_rows(n_in, rows)[:, rng.permutation(n_in)] * signs) / np.sqrt(n_in)
    return _fit_to_assumptions(rng.choice([-1.0, 1.0], size=(n_out, n_in)))


def _rank1(rng: np.random.Generator, n_out: int, n_in: int) -> np.ndarray:
    """``a b^T`` with unit vectors ``a`` (Gaussian direction) and ``b`` (entries ``+-1/sqrt(n_in)``):
    spectral norm exactly 1, and ``|a_o b_j| <= 1/sqrt(n_in)`` because ``|a_o| <= 1``."""
    a = rng.standard_normal(n_out)
    a /= np.linalg.norm(a)
    b = rng.choice([-1.0, 1.0], size=n_in) / np.sqrt(n_in)
    return np.outer(a, b)


def _sparse(rng: np.random.Generator, n_out: int, n_in: int) -> np.ndarray:
    """Gaussian entries with about 70% of them zero (at least one non-zero), rescaled to the assumptions."""
    w = rng.standard_normal((n_out, n_in)) * (rng.random((n_out, n_in)) < 0.3)
    if not np.any(w):
        w[rng.integers(n_out), rng.integers(n_in)] = 1.0
    return _fit_to_assumptions(w)


TARGET_FAMILIES: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "gaussian": _gaussian,
    "max_norm": _max_norm,
    "rank1": _rank1,
    "sparse": _sparse,
}
"""Registry of admissible target families: name -> ``(rng, n_out, n_in) -> W``."""


def random_target(
    d: int,
    widths: Sequence[int],
    *,
    seed: int,
    family: str = "gaussian",
    biases: bool = False,
    negative_slope: float = 0.0,
) -> TargetNetwork:
    """A random admissible target with input dimension ``d`` and layer widths ``widths``.

    ``family`` is one of :data:`TARGET_FAMILIES` (``"gaussian"``, ``"max_norm"``, ``"rank1"``,
    ``"sparse"``); every layer is drawn from it with ``numpy.random.default_rng(seed)``. ``d`` and the
    widths are positive integers (not bools, not floats), ``seed`` a non-negative integer; a target of
    more than :data:`MAX_TARGET_PARAMETERS` weights raises :class:`~stronglth.errors.TooLargeError`.

    ``biases=True`` adds a bias to every layer, ``b_i[o]`` i.i.d. ``U[-1, 1] / sqrt(n_i)`` drawn with
    ``numpy.random.default_rng([seed, 1])`` after the weights are drawn, so that ``|b_i[o]| <= 1``
    (:data:`BIAS_MAX_ABS`) and ``||b_i||_2 <= 1`` (docs/theory.md §12); the weights are those of the
    same call with ``biases=False``, bit for bit.

    ``negative_slope``: the hidden activation (:class:`TargetNetwork`); the weights do not depend on it.
    """
    d = _validate.positive_int(d, "d")
    if isinstance(widths, (str, bytes)) or not isinstance(widths, (Sequence, np.ndarray)):
        raise InvalidInputError(f"widths must be a sequence of positive integers, got widths={widths!r}")
    if len(widths) == 0:
        raise InvalidInputError("widths is empty: a target needs at least one layer")
    dims = [d] + [_validate.positive_int(n, f"widths[{i}]") for i, n in enumerate(widths)]
    if not isinstance(family, str) or family not in TARGET_FAMILIES:
        raise InvalidInputError(f"unknown target family {family!r}; choose one of {sorted(TARGET_FAMILIES)}")
    seed = _validate.seed(seed)
    _check_size(sum(n_in * n_out for n_in, n_out in zip(dims[:-1], dims[1:], strict=False)), f"a target of dims {tuple(dims)}")
    with_biases = _validate.boolean(biases, "biases")
    slope = _validate.negative_slope(negative_slope)
    rng = np.random.default_rng(seed)
    make = TARGET_FAMILIES[family]
    weights = [make(rng, n_out, n_in) for n_in, n_out in zip(dims[:-1], dims[1:], strict=False)]
    if not with_biases:
        return TargetNetwork(weights, negative_slope=slope)
    bias_rng = np.random.default_rng([seed, 1])
    return TargetNetwork(weights, [bias_rng.uniform(-1.0, 1.0, n) / np.sqrt(n) for n in dims[1:]], negative_slope=slope)


def _check_size(count: int, what: str) -> None:
    if count > MAX_TARGET_PARAMETERS:
        raise TooLargeError(
            f"{what} has {count:,} weights, more than the limit of {MAX_TARGET_PARAMETERS:,}"
            " (stronglth.target.MAX_TARGET_PARAMETERS); choose a smaller target"
        )


def _stored_entries(path: Path) -> int:
    """The number of array entries an ``.npz`` file holds, read from the ``.npy`` headers (nothing is
    decompressed beyond them, so a small file that inflates to terabytes is caught here)."""
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _, _ = read(member)
            total += int(np.prod(shape, dtype=object))
    return total


def load_target(path: str | os.PathLike) -> TargetNetwork:
    """Read a target from an ``.npz`` file with matrices ``W_1 .. W_l`` (``numpy.savez(path,
    W_1=..., W_2=...)``), optional bias vectors ``b_i`` (docs/theory.md §12) and an optional
    ``negative_slope`` (a 0-d float array ``a``, ``0 <= a < 1``: the leaky ReLU ``max(t, a t)``,
    §14.6; absent: the ReLU), or the target stored in a ticket file (``target_1 .. target_l`` and,
    format /2, ``target_bias_i``; format /3, ``target_negative_slope``). A bad slope raises
    :class:`~stronglth.errors.TicketFormatError` naming the key."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such target file")
    try:
        entries = _stored_entries(path)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise TicketFormatError(f"{path}: not a readable .npz file without pickled objects ({exc})") from None
    _check_size(entries, str(path))
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {key: z[key] for key in z.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise TicketFormatError(f"{path}: not a readable .npz file without pickled objects ({exc})") from None
    for prefix, bias_prefix, slope_key in (("W_", "b_", "negative_slope"), ("target_", "target_bias_", "target_negative_slope")):
        numbers = sorted(int(m.group(1)) for key in arrays if (m := re.fullmatch(prefix + r"(\d+)", key)))
        if numbers:
            if numbers != list(range(1, len(numbers) + 1)):
                raise TicketFormatError(f"{path}: layers {prefix}1..{prefix}{len(numbers)} expected, found {prefix}{numbers}")
            with_bias = sorted(int(m.group(1)) for key in arrays if (m := re.fullmatch(bias_prefix + r"(\d+)", key)))
            if stray := [i for i in with_bias if i not in numbers]:
                raise TicketFormatError(f"{path}: bias {bias_prefix}{stray[0]} belongs to no layer (layers 1..{len(numbers)})")
            biases = [arrays.get(f"{bias_prefix}{i}") for i in numbers]
            if prefix == "target_" and "negative_slope" in arrays and slope_key not in arrays:
                raise TicketFormatError(
                    f"{path}: a format /3 ticket file (it has negative_slope) stores its target's slope as {slope_key}"
                )
            slope = _stored_slope(path, arrays, slope_key)
            return TargetNetwork([arrays[f"{prefix}{i}"] for i in numbers], biases if with_bias else None, negative_slope=slope)
    raise TicketFormatError(f"{path}: no target matrices (keys W_1, W_2, ... or target_1, ...); keys are {sorted(arrays)}")


def _stored_slope(path: Path, arrays: dict[str, np.ndarray], key: str) -> float:
    """The slope ``a`` stored under ``key`` (0.0, the ReLU, when absent): a 0-d real floating-point
    array with ``0 <= a < 1`` (docs/theory.md §14.6), else a TicketFormatError naming the key."""
    if key not in arrays:
        return 0.0
    value = arrays[key]
    if value.shape != () or not np.issubdtype(value.dtype, np.floating):
        raise TicketFormatError(f"{path}: {key} must be a 0-d float array (one number a, 0 <= a < 1), got dtype {value.dtype},"
                                f" shape {value.shape}")  # fmt: skip
    try:
        return _validate.negative_slope(float(value), key)
    except InvalidInputError as exc:
        raise TicketFormatError(f"{path}: {exc}") from None
