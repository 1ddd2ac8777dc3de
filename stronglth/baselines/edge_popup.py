"""Edge-popup: training a mask over frozen random weights (docs/theory.md §8).

Ramanujan, Wortsman, Kembhavi, Farhadi, Rastegari, "What's hidden in a randomly weighted neural
network?", CVPR 2020. Every weight ``w`` has a trainable score ``s``; the forward pass uses the
``k = round(density * n)`` weights of largest ``|s|`` in each layer (``density`` = fraction
*kept*, never "prune rate"), and the backward pass treats the top-k step as the identity
(straight-through), so every score, kept or not, receives

    dL/ds = dL/dW_eff * w * sign(s)          (W_eff = mask * w)

i.e. ``dL/d|s| = dL/dW_eff * w``, the paper's ``dL/ds_uv = dL/dI_v Z_u w_uv`` with the ranking
done on ``|s|`` as in the public code. The weights never change (``requires_grad=False``).

The mask is the top-k of ``|s|`` by :func:`torch.topk` (a selection, no full sort: the public
code sorts all scores on every forward pass; :func:`full_sort_mask` is that reference, kept for
the tests and the benchmark). It keeps exactly ``k`` weights, ties included.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from stronglth import _validate
from stronglth.errors import InvalidInputError, ShapeError

__all__ = [
    "WEIGHT_INITS",
    "SupermaskLinear",
    "SupermaskConv2d",
    "kept_count",
    "topk_mask",
    "full_sort_mask",
    "masked_weight",
    "init_weight",
    "init_scores",
    "layer_generator",
    "supermask_layers",
]

WEIGHT_INITS = ("uniform", "signed_constant", "kaiming_normal")
"""``uniform``: U[-1, 1] (the theorem's G); ``signed_constant``: ``+-sqrt(2 / fan_in)`` with random
signs (Ramanujan et al.'s best); ``kaiming_normal``: N(0, 2 / fan_in)."""


def check_density(density: Any, name: str = "density") -> float:
    """A fraction of weights kept, in (0, 1]."""
    if isinstance(density, (bool, np.bool_)) or not isinstance(density, (int, float, np.integer, np.floating)):
        raise InvalidInputError(f"{name} must be a number in (0, 1] (the fraction of weights kept), got {density!r}")
    density = float(density)
    if not (0.0 < density <= 1.0):
        raise InvalidInputError(f"{name} must lie in (0, 1] (the fraction of weights kept, not pruned), got {density}")
    return density


def kept_count(density: float, n: int) -> int:
    """The number of weights a layer of ``n`` weights keeps at ``density``: ``n - floor((1 - density) n)``,
    as the public edge-popup code counts (it zeroes the ``int((1 - k) n)`` lowest scores), so
    ``n = 35`` at density 0.3 keeps 11 (Python's round-half-even would keep 10). A guard of 1e-9 in the
    floor makes ``density = k / n`` keep exactly ``k`` whatever the rounding of ``k / n``.

    A density at which a layer would keep no weight is refused: that layer, and so the network,
    would compute zero.
    """
    density, n = check_density(density), int(n)
    kept = n - math.floor((1.0 - density) * n + 1e-9)
    if kept < 1:
        raise InvalidInputError(
            f"density {density:g} keeps no weight of a layer of {n:,} weights (the network would be zero);"
            f" use a density of at least {1 / n:.3g} for this layer"
        )
    return kept


def topk_mask(scores: torch.Tensor, k: int) -> torch.Tensor:
    """A 0/1 tensor shaped like ``scores`` with ones at exactly ``k`` entries of largest ``|scores|``."""
    n = scores.numel()
    if not 0 <= k <= n:
        raise InvalidInputError(f"cannot keep {k} of {n} weights")
    flat = torch.zeros(n, dtype=scores.dtype, device=scores.device)
    if k == n:
        flat.fill_(1)
    elif k > 0:
        _, index = torch.topk(scores.detach().reshape(-1).abs(), k, sorted=False)
        flat[index] = 1
    return flat.view_as(scores)


def full_sort_mask(scores: torch.Tensor, density: float) -> torch.Tensor:
    """The public code's mask: sort all ``|scores|``, zero the lowest ``n - k``, one the rest.

    Same mask as :func:`topk_mask` (up to ties); kept as the reference the benchmark measures against.
    """
    n = scores.numel()
    k = kept_count(density, n)
    out = torch.empty(n, dtype=scores.dtype, device=scores.device)
    _, index = scores.detach().reshape(-1).abs().sort()
    out[index[: n - k]] = 0
    out[index[n - k :]] = 1
    return out.view_as(scores)


class _TopKStraightThrough(torch.autograd.Function):
    """``W_eff = topk_mask(s, k) * w``; backward: ``dL/ds = dL/dW_eff * w * sign(s)`` for every score."""

    @staticmethod
    def forward(ctx: Any, scores: torch.Tensor, weight: torch.Tensor, k: int) -> torch.Tensor:
        ctx.save_for_backward(scores, weight)
        return weight * topk_mask(scores, k)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, None, None]:
        scores, weight = ctx.saved_tensors
        if not ctx.needs_input_grad[0]:
            return None, None, None
        return grad * weight * torch.sign(scores), None, None


def masked_weight(scores: torch.Tensor, weight: torch.Tensor, k: int) -> torch.Tensor:
    """The effective weight ``topk_mask(scores, k) * weight`` with the straight-through gradient to ``scores``."""
    return _TopKStraightThrough.apply(scores, weight, k)


def layer_generator(seed: int, *index: int) -> torch.Generator:
    """A CPU torch generator for one layer, seeded from ``numpy.random.SeedSequence([seed, *index])``."""
    state = np.random.SeedSequence([_validate.seed(seed), *index]).generate_state(2, dtype=np.uint32)
    return torch.Generator(device="cpu").manual_seed(int(state[0]) << 32 | int(state[1]))


def init_weight(
    shape: Sequence[int],
    fan_in: int,
    init: str,
    *,
    generator: torch.Generator,
    density: float = 1.0,
    scale_fan: bool = False,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Frozen weights of one layer, drawn on the CPU with ``generator`` (so every device gets the same).

    ``scale_fan`` multiplies by ``1 / sqrt(density)`` (Ramanujan et al.'s scaled variant: the
    kept fan-in is ``density * fan_in``).
    """
    shape = tuple(int(s) for s in shape)
    if init == "uniform":
        w = torch.rand(shape, generator=generator, dtype=torch.float64) * 2.0 - 1.0
    elif init == "signed_constant":
        signs = torch.randint(0, 2, shape, generator=generator).to(torch.float64) * 2.0 - 1.0
        w = signs * math.sqrt(2.0 / fan_in)
    elif init == "kaiming_normal":
        w = torch.randn(shape, generator=generator, dtype=torch.float64) * math.sqrt(2.0 / fan_in)
    else:
        raise InvalidInputError(f"unknown weight_init {init!r}; choose one of {WEIGHT_INITS}")
    if scale_fan:
        w = w / math.sqrt(check_density(density))
    return w.to(dtype)


def init_scores(
    shape: Sequence[int], fan_in: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Kaiming-uniform scores, as ``nn.init.kaiming_uniform_(s, a=sqrt(5))``: U[-1/sqrt(fan_in), 1/sqrt(fan_in)]."""
    bound = 1.0 / math.sqrt(fan_in)
    return ((torch.rand(tuple(shape), generator=generator, dtype=torch.float64) * 2.0 - 1.0) * bound).to(dtype)


class _Supermask(nn.Module):
    """Shared part of the supermask layers: frozen ``weight``, trainable ``scores``, ``density``."""

    weight: nn.Parameter
    scores: nn.Parameter

    def _setup(self, weight: torch.Tensor, scores: torch.Tensor, density: float) -> None:
        self.density = check_density(density)
        self.k = kept_count(self.density, weight.numel())
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.scores = nn.Parameter(scores)
        self._cache: tuple[tuple, torch.Tensor] | None = None

    @property
    def fan_in(self) -> int:
        return int(self.weight[0].numel())

    def mask(self) -> torch.Tensor:
        """The current 0/1 mask (exactly ``k = round(density * n)`` ones), detached."""
        return topk_mask(self.scores.detach(), self.k)

    def effective_weight(self) -> torch.Tensor:
        """``mask * weight``: with a graph to the scores when gradients are on, cached otherwise."""
        if torch.is_grad_enabled() and self.scores.requires_grad:
            self._cache = None
            return masked_weight(self.scores, self.weight, self.k)
        key = (self.scores._version, self.weight._version, self.scores.data_ptr(), self.weight.data_ptr(), self.k)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, self.weight.detach() * self.mask())
        return self._cache[1]

    def _apply(self, fn: Any, *args: Any, **kwargs: Any) -> _Supermask:  # .to(device) etc. drop the cache
        self._cache = None
        return super()._apply(fn, *args, **kwargs)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, density={self.density:.4g}, kept={self.k}/{self.weight.numel()}"


class SupermaskLinear(_Supermask):
    """A bias-free linear layer ``y = (mask * W) x`` with frozen ``W`` and a trainable top-k mask.

    Args:
        in_features, out_features: the layer's shape (``weight`` is ``(out_features, in_features)``).
        density: fraction of the layer's weights kept, in (0, 1]; exactly ``round(density * n)``.
        weight_init: one of :data:`WEIGHT_INITS`; ignored when ``weight`` is given.
        scale_fan: multiply the weights by ``1 / sqrt(density)``.
        weight: use these frozen weights (e.g. a matrix of the theorem's G), as given.
        seed: seeds the weights and the scores (keyword).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        density: float,
        weight_init: str = "signed_constant",
        *,
        scale_fan: bool = False,
        weight: torch.Tensor | np.ndarray | None = None,
        seed: int = 0,
        dtype: torch.dtype = torch.float32,
        device: Any = None,
    ):
        super().__init__()
        self.in_features = _validate.positive_int(in_features, "in_features")
        self.out_features = _validate.positive_int(out_features, "out_features")
        shape = (self.out_features, self.in_features)
        weight_gen, score_gen = layer_generator(seed, 0), layer_generator(seed, 1)
        if weight is None:
            w = init_weight(
                shape, self.in_features, weight_init, generator=weight_gen, density=density, scale_fan=scale_fan, dtype=dtype
            )
        else:
            w = torch.as_tensor(weight).to(dtype).clone()
            if tuple(w.shape) != shape:
                raise ShapeError(f"weight has shape {tuple(w.shape)}, the layer is {shape}")
            weight_init = "given"
        self.weight_init = weight_init
        self._setup(w.to(device), init_scores(shape, self.in_features, generator=score_gen, dtype=dtype).to(device), density)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.effective_weight())

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, init={self.weight_init}" + super().extra_repr()


class SupermaskConv2d(_Supermask):
    """A bias-free 2-D convolution with frozen weights and a trainable top-k mask (see :class:`SupermaskLinear`)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        density: float,
        weight_init: str = "signed_constant",
        *,
        stride: int = 1,
        padding: int = 0,
        scale_fan: bool = False,
        weight: torch.Tensor | np.ndarray | None = None,
        seed: int = 0,
        dtype: torch.dtype = torch.float32,
        device: Any = None,
    ):
        super().__init__()
        self.in_channels = _validate.positive_int(in_channels, "in_channels")
        self.out_channels = _validate.positive_int(out_channels, "out_channels")
        self.kernel_size = _validate.positive_int(kernel_size, "kernel_size")
        self.stride, self.padding = int(stride), int(padding)
        shape = (self.out_channels, self.in_channels, self.kernel_size, self.kernel_size)
        fan_in = self.in_channels * self.kernel_size**2
        if weight is None:
            w = init_weight(
                shape, fan_in, weight_init, generator=layer_generator(seed, 0), density=density, scale_fan=scale_fan, dtype=dtype
            )
        else:
            w = torch.as_tensor(weight).to(dtype).clone()
            if tuple(w.shape) != shape:
                raise ShapeError(f"weight has shape {tuple(w.shape)}, the layer is {shape}")
            weight_init = "given"
        self.weight_init = weight_init
        self._setup(w.to(device), init_scores(shape, fan_in, generator=layer_generator(seed, 1), dtype=dtype).to(device), density)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.effective_weight(), stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride},"
            f" padding={self.padding}, init={self.weight_init}" + super().extra_repr()
        )


def supermask_layers(model: nn.Module) -> list[_Supermask]:
    """The supermask layers of ``model``, in order."""
    return [m for m in model.modules() if isinstance(m, _Supermask)]
