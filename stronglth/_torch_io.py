"""The torch side of :class:`stronglth.relu.ReLUNetwork`: writing an ``nn.Sequential`` and reading one
back (docs/theory.md §1, §12, §14.6), and the ``OutputScale`` module. torch is an optional extra,
imported on first use; :mod:`stronglth.relu` re-exports the public names (``OutputScale``,
:func:`output_scale_class`, :func:`output_scale_module`).

The hidden activation is ``nn.ReLU`` for a ReLU network (slope 0) and ``nn.LeakyReLU(negative_slope=a)``
for a leaky one, ``s_a(t) = max(t, a t)`` with ``0 < a < 1``. torch evaluates ``LeakyReLU`` as
``t if t > 0 else a t`` in the tensor's dtype, which is ``max(t, a t)`` for ``0 <= a < 1``; in float32
the slope itself is rounded to float32.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from stronglth import _validate
from stronglth._extras import require
from stronglth.errors import InvalidInputError

__all__ = ["output_scale_class", "output_scale_module", "torch_dtype", "to_sequential", "read_sequential"]

DTYPE_NAMES = ("float32", "float64")
_OUTPUT_SCALE_CLASS: list[Any] = []  # the OutputScale class, made on first use (torch is optional)


def output_scale_class() -> Any:
    """The ``torch.nn.Module`` subclass ``OutputScale`` (created on first use: torch is an optional extra).

    ``OutputScale(scale)`` multiplies its input by the float ``scale``, kept as a buffer ``scale`` (a 0-d
    tensor in the module's dtype, so it is in the ``state_dict``). It is the last module of ``to_torch``
    for a network with an output scale ``c != 1``: ``c`` is not a weight of G (docs/theory.md §12).
    Reachable as ``stronglth.relu.OutputScale`` (its module for pickling) and ``stronglth.ticket.OutputScale``.
    """
    if not _OUTPUT_SCALE_CLASS:
        torch = require("torch", extra="torch", purpose="OutputScale")

        class OutputScale(torch.nn.Module):  # type: ignore[name-defined]
            """Multiplies its input by a fixed positive ``scale`` (a ticket's output scale, not a weight of G)."""

            def __init__(self, scale: float, dtype: Any = None):
                super().__init__()
                value = _validate.positive_float(scale, "scale")
                self.register_buffer("scale", torch.tensor(value, dtype=torch_dtype(torch, dtype)))

            def forward(self, x: Any) -> Any:
                return x * self.scale

            def extra_repr(self) -> str:
                return f"scale={float(self.scale)!r}"

        OutputScale.__module__ = "stronglth.relu"  # where pickle finds it (stronglth.relu.__getattr__)
        OutputScale.__qualname__ = "OutputScale"
        _OUTPUT_SCALE_CLASS.append(OutputScale)
    return _OUTPUT_SCALE_CLASS[0]


def output_scale_module(scale: float, dtype: Any = None) -> Any:
    """An ``OutputScale`` module (:func:`output_scale_class`) multiplying by ``scale`` in ``dtype`` (float64 by default)."""
    return output_scale_class()(scale, dtype)


def torch_dtype(torch: Any, dtype: Any) -> Any:
    """``dtype`` as a real floating-point ``torch.dtype`` (``None``: float64), else an InvalidInputError."""
    if dtype is None:
        return torch.float64
    if isinstance(dtype, str):
        if dtype not in DTYPE_NAMES:
            raise InvalidInputError(f"dtype must be a torch floating-point dtype or one of {DTYPE_NAMES}, got dtype={dtype!r}")
        return getattr(torch, dtype)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise InvalidInputError(
            f"dtype must be a torch floating-point dtype (torch.float32, torch.float64, ...) or one of {DTYPE_NAMES},"
            f" got dtype={dtype!r} ({type(dtype).__name__})"
        )
    return dtype


def to_sequential(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray | None],
    output_scale: float,
    negative_slope: float,
    dtype: Any,
) -> Any:
    """``nn.Sequential`` of ``Linear`` layers (``bias=True`` where ``biases[i]`` is not ``None``), with
    ``nn.ReLU`` between them when ``negative_slope == 0`` and ``nn.LeakyReLU(negative_slope)`` otherwise,
    and a last ``OutputScale`` when ``output_scale != 1``; weights copied exactly into ``dtype``."""
    torch = require("torch", extra="torch", purpose="to_torch")
    nn = torch.nn
    dtype = torch_dtype(torch, dtype)
    layers: list[Any] = []
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        with warnings.catch_warnings():  # width-0 layers of an empty ticket are fine
            warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
            linear = nn.Linear(w.shape[1], w.shape[0], bias=b is not None, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.array(w)))
            if b is not None:
                linear.bias.copy_(torch.from_numpy(np.array(b)))
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(nn.ReLU() if negative_slope == 0.0 else nn.LeakyReLU(negative_slope=negative_slope))
    if output_scale != 1.0:
        layers.append(output_scale_module(output_scale, dtype))
    return nn.Sequential(*layers)


def _activation(nn: Any, layer: Any, where: str) -> tuple[str, float]:
    """``("ReLU", 0.0)`` for ``nn.ReLU``, ``("LeakyReLU", a)`` for ``nn.LeakyReLU`` with ``0 <= a < 1``;
    else an InvalidInputError naming ``where``."""
    if isinstance(layer, nn.ReLU):
        return "ReLU", 0.0
    if isinstance(layer, nn.LeakyReLU):
        try:
            return "LeakyReLU", _validate.negative_slope(layer.negative_slope, "negative_slope")
        except InvalidInputError as exc:
            raise InvalidInputError(f"{where}: {exc} (the activations this package handles, docs/theory.md §14.6)") from None
    raise InvalidInputError(
        f"{where}: expected nn.ReLU or nn.LeakyReLU between Linear layers; other activations are not supported"
    )


def read_sequential(module: Any, *, allow_output_scale: bool, kind: str) -> dict[str, Any]:
    """The ``weights``, ``biases`` (``None`` when no layer has one), ``output_scale`` and ``negative_slope``
    of an ``nn.Sequential`` as :func:`to_sequential` writes it (or a single ``nn.Linear``); ``kind`` names
    the class being read, for the refusal of an ``OutputScale`` when ``allow_output_scale`` is false.

    Every activation must be the same: all ``nn.ReLU``, or all ``nn.LeakyReLU`` of one slope ``0 <= a < 1``.
    Anything else raises :class:`~stronglth.errors.InvalidInputError` naming the offending layer."""
    nn = require("torch", extra="torch", purpose="from_torch").nn
    if isinstance(module, nn.Linear):
        module = nn.Sequential(module)
    if not isinstance(module, nn.Sequential):
        raise InvalidInputError(f"from_torch expects an nn.Sequential of Linear and ReLU, got {type(module).__name__}")
    layers = list(module)
    scale = 1.0
    if layers and isinstance(layers[-1], output_scale_class()):
        if not allow_output_scale:
            raise InvalidInputError(
                f"layer {len(layers) - 1} (OutputScale): a {kind} has no output scale; read it as a ReLUNetwork"
            )
        scale = float(layers.pop().scale)
    weights: list[np.ndarray] = []
    biases: list[np.ndarray | None] = []
    first: tuple[int, str, float] | None = None  # the first activation: layer index, kind, slope
    expect_linear = True
    for index, layer in enumerate(layers):
        where = f"layer {index} ({type(layer).__name__})"
        if expect_linear:
            if not isinstance(layer, nn.Linear):
                raise InvalidInputError(f"{where}: expected nn.Linear; only Linear layers separated by ReLU are supported")
            weights.append(layer.weight.detach().cpu().double().numpy())
            biases.append(None if layer.bias is None else layer.bias.detach().cpu().double().numpy())
        else:
            name, slope = _activation(nn, layer, where)
            if first is None:
                first = (index, name, slope)
            elif (name, slope) != first[1:]:
                was = "nn.ReLU" if first[1] == "ReLU" else f"nn.LeakyReLU(negative_slope={first[2]!r})"
                now = "nn.ReLU" if name == "ReLU" else f"nn.LeakyReLU(negative_slope={slope!r})"
                raise InvalidInputError(
                    f"{where}: {now}, but layer {first[0]} is {was}; every activation of the network must be the same"
                )
        expect_linear = not expect_linear
    if not weights:
        raise InvalidInputError("from_torch: the module has no Linear layer")
    if expect_linear:
        raise InvalidInputError("from_torch: the module ends with a ReLU (an activation); the output layer must be linear")
    return {
        "weights": weights,
        "biases": None if all(b is None for b in biases) else biases,
        "output_scale": scale,
        "negative_slope": 0.0 if first is None else first[2],
    }
