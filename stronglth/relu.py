"""Dense ReLU networks with optional biases: ``f(x) = c (W_l s(... s(W_1 x + b_1) ...) + b_l)``
(docs/theory.md §1, §12), ``s`` the ReLU or a leaky ReLU ``s_a(t) = max(t, a t)`` (§14.6).

:class:`ReLUNetwork` is the common currency of the package: targets are ReLU networks with
assumption checks on top (:class:`stronglth.TargetNetwork`), and a ticket's ``compact()`` is one.
A network without biases (``has_biases`` false) is positively homogeneous, ``f(c x) = c f(x)`` for
``c >= 0``, which is why its sup-norm errors over the unit ball are attained on the sphere
(docs/theory.md §1.5). A network with biases is not: code that relies on homogeneity must check
:attr:`ReLUNetwork.has_biases` and refuse (docs/theory.md §12). The output scale ``c`` (default 1)
is a positive number multiplying the output; it is not a weight (a rescaled ticket, issue 19).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from stronglth import _torch_io, _validate
from stronglth.errors import InvalidInputError, ShapeError

if TYPE_CHECKING:  # torch is imported lazily: `import stronglth` stays fast
    import torch

__all__ = ["ReLUNetwork", "activate", "split_units", "output_scale_module"]

_Net = TypeVar("_Net", bound="ReLUNetwork")


def bias_vector(value: Any, name: str, length: int) -> np.ndarray:
    """A finite real floating-point 1-D array of ``length`` entries, as a read-only float64 copy;
    else an :class:`~stronglth.errors.InvalidInputError` (a :class:`~stronglth.errors.ShapeError` for
    the shape) naming ``name``. Integer arrays are refused, as for weights."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a real floating-point vector ({exc})") from None
    if array.dtype == object or not np.issubdtype(array.dtype, np.floating):
        raise InvalidInputError(
            f"{name} must be a real floating-point vector, got dtype {array.dtype}"
            + (" (convert integers explicitly with .astype(float))" if np.issubdtype(array.dtype, np.integer) else "")
        )
    if array.shape != (length,):
        raise ShapeError(f"{name} must have shape ({length},) (one entry per output unit of the layer), got {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise InvalidInputError(f"{name} has a non-finite entry {array[bad]} at {bad}")
    out = np.array(array, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


class ReLUNetwork:
    """A ReLU network with a linear output layer, optional biases and an output scale, in float64.

    Args:
        weights: matrices ``W_1 .. W_l``; ``W_i`` has shape ``(n_i, n_{i-1})`` and ``n_0 = d``.
            They must be real floating-point, finite, and chain (columns of ``W_i`` = rows of
            ``W_{i-1}``). Hidden layers of width 0 are allowed here (a ticket with no live units
            compacts to one); :class:`~stronglth.TargetNetwork` refuses them.
        biases: ``None`` (no bias anywhere: today's bias-free network) or one entry per layer,
            each ``None`` (no bias in that layer) or a real floating-point vector of ``n_i`` entries.
        output_scale: a finite number ``c > 0`` multiplying the output (default 1). It is how a
            ticket of a rescaled target ``F / c`` approximates ``F`` itself (docs/theory.md §1.1, §12).
        negative_slope: ``a`` with ``0 <= a < 1``: the hidden activation is ``s_a(t) = max(t, a t)``,
            the ReLU for ``a = 0`` (the default), a leaky ReLU otherwise (docs/theory.md §14.6). Like
            the ReLU it is positively homogeneous and 1-Lipschitz.

    The network computes ``h_0 = x``, ``h_i = s_a(W_i h_{i-1} + b_i)`` for ``i < l`` and
    ``f(x) = c (W_l h_{l-1} + b_l)``, with ``b_i = 0`` where a layer has no bias.
    """

    _allow_empty_hidden = True
    _allow_output_scale = True

    def __init__(
        self,
        weights: Sequence[Any],
        biases: Sequence[Any] | None = None,
        *,
        output_scale: float = 1.0,
        negative_slope: float = 0.0,
    ):
        if isinstance(weights, np.ndarray) and weights.ndim == 2:
            weights = [weights]
        if not isinstance(weights, Sequence) and not isinstance(weights, np.ndarray):
            raise InvalidInputError(f"weights must be a list of matrices, got {type(weights).__name__}")
        if len(weights) == 0:
            raise ShapeError("weights is empty: a network needs at least one layer")
        mats = []
        for i, w in enumerate(weights, start=1):
            mats.append(_validate.real_matrix(w, f"layer {i} weight", allow_empty=self._allow_empty_hidden))
        for i in range(1, len(mats)):
            if mats[i].shape[1] != mats[i - 1].shape[0]:
                raise ShapeError(
                    f"layer shapes do not chain: layer {i} has shape {mats[i - 1].shape} (output {mats[i - 1].shape[0]}),"
                    f" layer {i + 1} has shape {mats[i].shape} (input {mats[i].shape[1]})"
                )
        if mats[0].shape[1] == 0 or mats[-1].shape[0] == 0:
            raise ShapeError("the input dimension and the output width must be at least 1")
        for w in mats:
            w.setflags(write=False)
        self._weights: tuple[np.ndarray, ...] = tuple(mats)
        self._bias_layers, self._biases = self._check_biases(biases)
        if not self._allow_output_scale and output_scale != 1.0:
            raise InvalidInputError(f"a {type(self).__name__} has no output scale (got output_scale={output_scale!r})")
        self._output_scale = _validate.positive_float(output_scale, "output_scale")
        self._negative_slope = _validate.negative_slope(negative_slope)

    def _check_biases(self, biases: Any) -> tuple[tuple[bool, ...], tuple[np.ndarray, ...]]:
        depth = len(self._weights)
        if biases is None:
            biases = [None] * depth
        if isinstance(biases, (str, bytes)) or not isinstance(biases, (Sequence, np.ndarray)):
            raise InvalidInputError(f"biases must be None or a list of one vector-or-None per layer, got {type(biases).__name__}")
        if len(biases) != depth:
            raise ShapeError(
                f"biases has {len(biases)} entries, the network has {depth} layers (use None for a layer without bias)"
            )
        given, vectors = [], []
        for i, (b, w) in enumerate(zip(biases, self._weights, strict=True), start=1):
            given.append(b is not None)
            if b is None:
                zeros = np.zeros(w.shape[0])
                zeros.setflags(write=False)
                vectors.append(zeros)
            else:
                vectors.append(bias_vector(b, f"layer {i} bias", w.shape[0]))
        return tuple(given), tuple(vectors)

    # -- shape ------------------------------------------------------------------------------
    @property
    def weights(self) -> tuple[np.ndarray, ...]:
        """The read-only weight matrices ``W_1 .. W_l``."""
        return self._weights

    @property
    def biases(self) -> tuple[np.ndarray, ...]:
        """The read-only bias vectors ``b_1 .. b_l`` (zeros for a layer without bias)."""
        return self._biases

    @property
    def bias_layers(self) -> tuple[bool, ...]:
        """For each layer, whether it has a bias vector (given, even if it is zero)."""
        return self._bias_layers

    @property
    def has_biases(self) -> bool:
        """Whether some layer has a bias vector. If not, the network is positively homogeneous
        (docs/theory.md §1.5); if so, code assuming homogeneity must refuse (docs/theory.md §12)."""
        return any(self._bias_layers)

    @property
    def output_scale(self) -> float:
        """The factor ``c > 0`` multiplying the output (1.0 unless set)."""
        return self._output_scale

    @property
    def negative_slope(self) -> float:
        """The slope ``a`` of the hidden activation ``s_a(t) = max(t, a t)`` (0.0: the ReLU)."""
        return self._negative_slope

    def relu_equivalent(self) -> ReLUNetwork:
        """A plain ReLU network (``negative_slope = 0``) computing the same function (``self`` if it is one).

        By ``s_a(z) = s(z) - a s(-z)`` each hidden unit becomes two ReLU units reading ``z`` and ``-z``,
        and the next layer reads them with ``W`` and ``-a W`` (docs/theory.md §14.6): hidden widths
        double, biases ``b`` become ``[b; -b]``, the output scale is kept. Equal up to one rounding of
        each product ``a W`` (relative ``2^-53``), which is how every verification method handles a
        leaky network. Bias-free stays bias-free, so positive homogeneity (§1.5) is kept."""
        return self if self._negative_slope == 0.0 else split_units(self)

    @property
    def depth(self) -> int:
        """Number of layers ``l``."""
        return len(self._weights)

    @property
    def dims(self) -> tuple[int, ...]:
        """``(n_0, n_1, ..., n_l)`` with ``n_0 = d``."""
        return (self._weights[0].shape[1],) + tuple(w.shape[0] for w in self._weights)

    @property
    def d(self) -> int:
        """Input dimension."""
        return self.dims[0]

    @property
    def widths(self) -> tuple[int, ...]:
        """Layer widths ``(n_1, ..., n_l)``."""
        return self.dims[1:]

    @property
    def parameter_count(self) -> int:
        """Number of weights plus the entries of the bias vectors that exist (the output scale is not counted)."""
        weights = sum(w.size for w in self._weights)
        return int(weights + sum(b.size for b, given in zip(self._biases, self._bias_layers, strict=True) if given))

    # -- evaluation ---------------------------------------------------------------------------
    def forward(self, X: Any) -> np.ndarray:
        """Evaluate at points ``X`` of shape ``(N, d)`` (or one point ``(d,)``); float64 out."""
        x, single = _validate.inputs(X, self.d)
        h = x
        for i, (w, b, given) in enumerate(zip(self._weights, self._biases, self._bias_layers, strict=True)):
            h = h @ w.T
            if given:
                h += b
            if i < len(self._weights) - 1:
                activate(h, self._negative_slope)
        if self._output_scale != 1.0:
            h *= self._output_scale
        return h[0] if single else h

    __call__ = forward

    # -- torch (stronglth._torch_io) ------------------------------------------------------------
    def to_torch(self, dtype: torch.dtype | str | None = None) -> torch.nn.Sequential:
        """An ``nn.Sequential`` of ``Linear`` layers computing the same function, with ``nn.ReLU`` between
        them (``nn.LeakyReLU(negative_slope=a)`` for a leaky network, docs/theory.md §14.6):
        ``Linear(bias=True)`` where a layer has a bias, ``bias=False`` elsewhere, and a last
        :class:`OutputScale` module (see :func:`output_scale_module`) when the output scale is not 1.

        ``dtype``: a real floating-point ``torch.dtype`` (``torch.float32``, ...), or the strings
        ``"float32"`` / ``"float64"``; ``None`` (the default) is ``torch.float64``. Anything else raises
        :class:`~stronglth.errors.InvalidInputError`. (A network of depth 1 has no activation, so
        nothing records its slope, which changes nothing there; :meth:`from_torch` reads it as 0.)
        """
        biases = [b if given else None for b, given in zip(self._biases, self._bias_layers, strict=True)]
        return _torch_io.to_sequential(self._weights, biases, self._output_scale, self._negative_slope, dtype)

    @classmethod
    def from_torch(cls: type[_Net], module: Any) -> _Net:
        """Read an ``nn.Sequential`` of ``nn.Linear`` layers (with or without bias) separated by ``nn.ReLU``
        or by ``nn.LeakyReLU`` (the network's ``negative_slope``; ``0 <= a < 1``), optionally ending in an
        :class:`OutputScale` (what :meth:`to_torch` writes; refused for a target).

        Anything else (other activations or layer types, a ReLU and a LeakyReLU or two slopes in one
        module, two activations in a row, one at the end) raises
        :class:`~stronglth.errors.InvalidInputError` naming the offending layer.
        """
        read = _torch_io.read_sequential(module, allow_output_scale=cls._allow_output_scale, kind=cls.__name__)
        extra: dict[str, float] = {}
        if read["output_scale"] != 1.0:
            extra["output_scale"] = read["output_scale"]
        if read["negative_slope"] != 0.0:
            extra["negative_slope"] = read["negative_slope"]
        return cls(read["weights"], read["biases"], **extra)

    def __repr__(self) -> str:
        parts = [f"dims={self.dims}"]
        if self.has_biases:
            parts.append(f"bias_layers={[i for i, g in enumerate(self._bias_layers, start=1) if g]}")
        if self._output_scale != 1.0:
            parts.append(f"output_scale={self._output_scale!r}")
        if self._negative_slope != 0.0:
            parts.append(f"negative_slope={self._negative_slope!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


def split_units(net: ReLUNetwork) -> ReLUNetwork:
    """The layout of :meth:`ReLUNetwork.relu_equivalent` for any network, a plain ReLU one included:
    every hidden unit twice, reading ``z`` and ``-z``, the next layer reading them with ``W`` and
    ``-a W`` (for ``a = 0`` exact zeros: the same function bit for bit). Two networks laid out so have
    layers of equal shapes, which the differential bound needs of a pair with one leaky network."""
    a = net.negative_slope
    weights, biases = [], []
    last = net.depth - 1
    for i, (w, b, given) in enumerate(zip(net.weights, net.biases, net.bias_layers, strict=True)):
        if i > 0:  # reads [s(z); s(-z)] of the layer before
            w = np.hstack((w, -a * w if a else np.zeros_like(w)))
        if i < last:
            w = np.vstack((w, -w))
            b = np.concatenate((b, -b))
        weights.append(w)
        biases.append(b if given else None)
    return ReLUNetwork(weights, biases if net.has_biases else None, output_scale=net.output_scale)


def activate(h: np.ndarray, negative_slope: float) -> np.ndarray:
    """Apply ``s_a(t) = max(t, a t)`` to ``h`` in place (the ReLU for ``a = 0``) and return it."""
    if negative_slope == 0.0:
        return np.maximum(h, 0.0, out=h)
    return np.maximum(h, negative_slope * h, out=h)


# -- torch helpers: in stronglth._torch_io, re-exported here -----------------------------------

output_scale_class = _torch_io.output_scale_class
output_scale_module = _torch_io.output_scale_module
_torch_dtype = _torch_io.torch_dtype


def __getattr__(name: str) -> Any:  # ``stronglth.relu.OutputScale`` without importing torch at import time
    if name == "OutputScale":
        return output_scale_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
