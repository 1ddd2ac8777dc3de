"""Dense bias-free ReLU networks: ``f(x) = W_l s(W_{l-1} ... s(W_1 x))`` (docs/theory.md §1).

:class:`ReLUNetwork` is the common currency of the package: targets are ReLU networks with
assumption checks on top (:class:`stronglth.TargetNetwork`), and a ticket's ``compact()`` is one.
Because there are no biases, every such network is positively homogeneous, ``f(c x) = c f(x)``
for ``c >= 0``, which is why sup-norm errors over the unit ball are attained on the sphere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from stronglth import _validate
from stronglth._extras import require
from stronglth.errors import InvalidInputError, ShapeError

if TYPE_CHECKING:  # torch is imported lazily: `import stronglth` stays fast
    import torch
    from torch.nn import Module as _TorchModule

__all__ = ["ReLUNetwork"]

_Net = TypeVar("_Net", bound="ReLUNetwork")


class ReLUNetwork:
    """A bias-free ReLU network with a linear output layer, weights in float64.

    Args:
        weights: matrices ``W_1 .. W_l``; ``W_i`` has shape ``(n_i, n_{i-1})`` and ``n_0 = d``.
            They must be real floating-point, finite, and chain (columns of ``W_i`` = rows of
            ``W_{i-1}``). Hidden layers of width 0 are allowed here (a ticket with no live units
            compacts to one); :class:`~stronglth.TargetNetwork` refuses them.
    """

    _allow_empty_hidden = True

    def __init__(self, weights: Sequence[Any]):
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

    # -- shape ------------------------------------------------------------------------------
    @property
    def weights(self) -> tuple[np.ndarray, ...]:
        """The read-only weight matrices ``W_1 .. W_l``."""
        return self._weights

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
        return int(sum(w.size for w in self._weights))

    # -- evaluation ---------------------------------------------------------------------------
    def forward(self, X: Any) -> np.ndarray:
        """Evaluate at points ``X`` of shape ``(N, d)`` (or one point ``(d,)``); float64 out."""
        x, single = _validate.inputs(X, self.d)
        h = x
        for i, w in enumerate(self._weights):
            h = h @ w.T
            if i < len(self._weights) - 1:
                np.maximum(h, 0.0, out=h)
        return h[0] if single else h

    __call__ = forward

    # -- torch --------------------------------------------------------------------------------
    def to_torch(self, dtype: torch.dtype | str | None = None) -> torch.nn.Sequential:
        """An ``nn.Sequential`` of bias-free ``Linear`` and ``ReLU`` computing the same function.

        ``dtype``: a real floating-point ``torch.dtype`` (``torch.float32``, ...), or the strings
        ``"float32"`` / ``"float64"``; ``None`` (the default) is ``torch.float64``. Anything else raises
        :class:`~stronglth.errors.InvalidInputError`.
        """
        import warnings

        torch = require("torch", extra="torch", purpose="to_torch")
        nn = torch.nn

        dtype = _torch_dtype(torch, dtype)
        layers: list[_TorchModule] = []
        for i, w in enumerate(self._weights):
            with warnings.catch_warnings():  # width-0 layers of an empty ticket are fine
                warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
                linear = nn.Linear(w.shape[1], w.shape[0], bias=False, dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.array(w)))
            layers.append(linear)
            if i < len(self._weights) - 1:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)

    @classmethod
    def from_torch(cls: type[_Net], module: Any) -> _Net:
        """Read an ``nn.Sequential`` of bias-free ``nn.Linear`` layers separated by ``nn.ReLU``.

        Anything else (biases, other activations or layer types, two ReLUs in a row, a ReLU at the
        end) raises :class:`~stronglth.errors.InvalidInputError` naming the offending layer.
        """
        nn = require("torch", extra="torch", purpose="from_torch").nn

        if isinstance(module, nn.Linear):
            module = nn.Sequential(module)
        if not isinstance(module, nn.Sequential):
            raise InvalidInputError(f"from_torch expects an nn.Sequential of Linear and ReLU, got {type(module).__name__}")
        weights = []
        expect_linear = True
        for index, layer in enumerate(module):
            where = f"layer {index} ({type(layer).__name__})"
            if expect_linear:
                if not isinstance(layer, nn.Linear):
                    raise InvalidInputError(
                        f"{where}: expected nn.Linear; only bias-free Linear layers separated by ReLU are supported"
                    )
                if layer.bias is not None:
                    raise InvalidInputError(f"{where}: has a bias; the networks of the theorem have none (use bias=False)")
                weights.append(layer.weight.detach().cpu().double().numpy())
            elif not isinstance(layer, nn.ReLU):
                raise InvalidInputError(f"{where}: expected nn.ReLU between Linear layers; other activations are not supported")
            expect_linear = not expect_linear
        if not weights:
            raise InvalidInputError("from_torch: the module has no Linear layer")
        if expect_linear:
            raise InvalidInputError("from_torch: the module ends with a ReLU; the output layer must be linear")
        return cls(weights)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dims={self.dims})"


_DTYPE_NAMES = ("float32", "float64")


def _torch_dtype(torch: Any, dtype: Any) -> Any:
    """``dtype`` as a real floating-point ``torch.dtype`` (``None``: float64), else an InvalidInputError."""
    if dtype is None:
        return torch.float64
    if isinstance(dtype, str):
        if dtype not in _DTYPE_NAMES:
            raise InvalidInputError(f"dtype must be a torch floating-point dtype or one of {_DTYPE_NAMES}, got dtype={dtype!r}")
        return getattr(torch, dtype)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise InvalidInputError(
            f"dtype must be a torch floating-point dtype (torch.float32, torch.float64, ...) or one of {_DTYPE_NAMES},"
            f" got dtype={dtype!r} ({type(dtype).__name__})"
        )
    return dtype
