"""Edge-popup approximating a target inside the theorem's G (Ramanujan et al., CVPR 2020; docs/theory.md §8).

:func:`approximate_target` trains scores over the theorem's G (Malach et al. 2020: depth ``2l``,
U[-1, 1] weights, the same G a construction with the same seed and block sizes searches) to
minimise the squared error to a target on points of the unit ball, exports the masked network
(``mask * G``: G's own values) and measures its sup error with :mod:`stronglth.verification`, the
same numbers as for the constructions (:func:`construction_errors`).

Runs on ``device="auto"``: CUDA when present, the CPU otherwise; randomness only through ``seed=``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from stronglth import _validate
from stronglth.baselines.classification import make_optimizer, resolve_device
from stronglth.baselines.edge_popup import layer_generator, supermask_layers
from stronglth.baselines.models import from_random_network, weight_scales
from stronglth.errors import InvalidInputError
from stronglth.relu import ReLUNetwork
from stronglth.verification import unit_sphere_points

__all__ = [
    "computes_zero",
    "ball_points",
    "compact",
    "masked_network",
    "ApproximationResult",
    "approximate_target",
    "sup_errors",
    "construction_errors",
]


def ball_points(n: int, d: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``n`` points uniform in the unit ball of ``R^d`` (Gaussian direction, radius ``U^(1/d)``), on the CPU."""
    x = torch.randn(n, d, generator=generator, dtype=dtype)
    x = x / x.norm(dim=1, keepdim=True).clamp_min(1e-300)
    return x * torch.rand(n, 1, generator=generator, dtype=dtype) ** (1.0 / d)


def compact(weights: Sequence[np.ndarray]) -> ReLUNetwork:
    """The same function without dead hidden units (a zero row in ``W_i`` or zero column in ``W_{i+1}``)."""
    mats = [np.asarray(w, dtype=np.float64) for w in weights]
    changed = True
    while changed:
        changed = False
        for i in range(len(mats) - 1):
            live = np.any(mats[i] != 0, axis=1) & np.any(mats[i + 1] != 0, axis=0)
            if not live.all():
                mats[i], mats[i + 1] = mats[i][live], mats[i + 1][:, live]
                changed = True
    return ReLUNetwork(mats)


def masked_network(model: nn.Module, network: Any, *, weight_scale: Any = 1.0) -> ReLUNetwork:
    """The ticket a supermask model over G stands for: ``mask_t * M_t`` with G's float64 values (times
    the model's :func:`~stronglth.baselines.models.weight_scales`), dead units removed (:func:`compact`)."""
    layers = supermask_layers(model)
    if len(layers) != network.depth:
        raise InvalidInputError(f"the model has {len(layers)} supermask layers, G has {network.depth} matrices")
    scales = weight_scales(network, [layer.density for layer in layers], weight_scale)
    weights = []
    for t, (layer, scale) in enumerate(zip(layers, scales, strict=False), start=1):
        mask = layer.mask().detach().cpu().numpy().astype(bool)
        weights.append(np.where(mask, network.dense(t) * scale if scale != 1.0 else network.dense(t), 0.0))
    return compact(weights)


def _resolve_scales(
    network: Any, density: Any, weight_scale: Any, reference: nn.Sequential, *, seed: int, dtype: str, device: torch.device
) -> list[float]:
    """:func:`weight_scales`, plus ``"calibrated"``: ``"auto"`` with the last factor set so that the
    initial masked network's root-mean-square output on the ball equals the target's."""
    if not (isinstance(weight_scale, str) and weight_scale == "calibrated"):
        return weight_scales(network, density, weight_scale)
    scales = weight_scales(network, density, "auto")
    model = from_random_network(network, density, weight_scale=scales, seed=seed, dtype=dtype).to(device)
    weight_dtype = cast(nn.Linear, reference[0]).weight.dtype  # the first layer of to_torch() is a Linear
    x = ball_points(4096, network.dims[0], generator=layer_generator(seed, 13), dtype=weight_dtype).to(device)
    with torch.no_grad():
        rms_model, rms_target = float(model(x).square().mean().sqrt()), float(reference(x).square().mean().sqrt())
    if rms_model > 0 and rms_target > 0:
        scales[-1] *= rms_target / rms_model
    return scales


def sup_errors(
    net: Any,
    target: Any,
    *,
    samples: int = 100_000,
    adversarial: bool = True,
    exact: bool = False,
    time_limit: float = 60.0,
    seed: int = 0,
) -> dict[str, float | None]:
    """Sampled, adversarial and (optionally) exact sup error of ``net`` against ``target`` (:mod:`stronglth.verification`)."""
    from stronglth.verification import adversarial_error, exact_error, sampled_error

    out: dict[str, float | None] = {"sampled_error": sampled_error(net, target, n=samples, seed=seed)[0]}
    out["adversarial_error"] = adversarial_error(net, target, n=min(samples, 20_000), seed=seed)[0] if adversarial else None
    out["exact_error"] = None
    if exact:
        result = exact_error(net, target, time_limit=time_limit)
        out["exact_error"] = result.upper if result.status != "inconclusive" else None
    return out


@dataclass
class ApproximationResult:
    """An edge-popup ticket of G approximating a target: its model, exported network and errors."""

    model: nn.Sequential
    network: ReLUNetwork
    block_sizes: tuple[int, ...]
    kept: int
    total: int
    layer_kept: list[int]
    final_loss: float
    errors: dict[str, float | None]
    seconds: float
    device: str
    losses: list[float] = field(default_factory=list)
    weight_scales: list[float] = field(default_factory=list)
    zero_network: bool = False
    """The exported mask computes the zero function (no path from input to output, or every output
    exactly 0 on the sampled points): its error is the target's own sup norm, not an approximation."""

    @property
    def density(self) -> float:
        return self.kept / self.total

    @property
    def output_factor(self) -> float:
        """``prod_t`` of the weight scales: the ticket is this factor times a true subnetwork of G (1 when unscaled)."""
        return float(np.prod(self.weight_scales)) if self.weight_scales else 1.0

    def row(self) -> dict[str, Any]:
        return {
            "method": "edge-popup",
            "block_size": self.block_sizes[0],
            "g_parameters": self.total,
            "nnz": self.kept,
            "density": self.density,
            "train_mse": self.final_loss,
            **self.errors,
            "certified_error": None,
            "output_factor": self.output_factor,
            "zero_network": self.zero_network,
            "seconds": self.seconds,
        }


def approximate_target(
    target: Any,
    *,
    block_sizes: Sequence[int],
    density: float | Sequence[float],
    seed: int,
    steps: int = 2000,
    batch_size: int = 256,
    lr: float = 1e-3,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    weight_scale: float | str = "calibrated",
    samples: int = 100_000,
    adversarial: bool = True,
    exact: bool = False,
    time_limit: float = 60.0,
    dtype: str = "float32",
    device: str | torch.device = "auto",
    progress: bool = True,
) -> ApproximationResult:
    """Edge-popup inside ``G = RandomNetwork.for_target(target, block_sizes, seed=seed)``.

    The scores are trained on fresh unit-ball points each step (squared error to the target,
    cosine learning rate); G's weights stay G's values times ``weight_scale``: ``1`` keeps the ticket
    a true subnetwork of G; ``"auto"`` gives the kept weights Kaiming's variance, and the ticket is then
    a true subnetwork of G times a constant, ``output_factor``; ``"calibrated"`` (the default) is
    ``"auto"`` with the last factor matching the initial output's scale to the target's. On G's raw
    U[-1, 1] values the initial output is orders of magnitude larger than an admissible target's, the
    first steps kill every path, and the straight-through gradient of a dead network is zero: edge-popup
    then returns the zero network (experiments/results/construction-vs-edge-popup/). The final mask is
    exported as a bias-free ReLU network and its sup error over the ball measured with
    :mod:`stronglth.verification` (``samples`` sphere points, gradient ascent, and the exact method
    when ``exact``). Training runs in ``dtype``; the exported network is always
    ``mask * M_t`` with G's float64 values (:func:`masked_network`).
    """
    from tqdm.auto import tqdm

    from stronglth.random_network import RandomNetwork
    from stronglth.target import TargetNetwork

    if not isinstance(target, TargetNetwork):
        raise InvalidInputError(f"target must be a TargetNetwork, got {type(target).__name__}")
    if target.negative_slope != 0.0:
        raise InvalidInputError(
            f"target has a leaky ReLU (negative_slope={target.negative_slope!r}): the edge-popup baseline searches a ReLU G"
            " with ReLU supermask models; construct a leaky target with method='burkholz' (docs/theory.md §14.6)"
        )
    steps = _validate.positive_int(steps, "steps")
    batch_size = _validate.positive_int(batch_size, "batch_size")
    device = resolve_device(device)
    network = RandomNetwork.for_target(target, block_sizes, seed=seed)
    reference = target.to_torch(dtype=getattr(torch, dtype)).to(device)
    weight_dtype = cast(nn.Linear, reference[0]).weight.dtype  # the first layer of to_torch() is a Linear
    generator = layer_generator(seed, 11)
    scales = _resolve_scales(network, density, weight_scale, reference, seed=seed, dtype=dtype, device=device)
    model = from_random_network(network, density, weight_scale=scales, seed=seed, dtype=dtype).to(device)
    opt = make_optimizer([p for p in model.parameters() if p.requires_grad], optimizer, lr, momentum, weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    started = time.perf_counter()
    losses: list[float] = []
    bar = tqdm(range(steps), desc=f"edge-popup in G (k={list(block_sizes)})", unit="step", leave=False, disable=not progress)
    for step in bar:
        x = ball_points(batch_size, target.d, generator=generator, dtype=weight_dtype).to(device)
        with torch.no_grad():
            y = reference(x)
        loss = (model(x) - y).pow(2).sum(dim=1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
        if step % 50 == 0 or step == steps - 1:
            losses.append(float(loss.detach()))
            bar.set_postfix(mse=f"{losses[-1]:.3g}")
    with torch.no_grad():  # the final mask's training objective on fresh points
        x = ball_points(8192, target.d, generator=generator, dtype=weight_dtype).to(device)
        final = float((model(x) - reference(x)).pow(2).sum(dim=1).mean())
    seconds = time.perf_counter() - started
    exported = masked_network(model, network, weight_scale=scales)
    errors = sup_errors(exported, target, samples=samples, adversarial=adversarial, exact=exact, time_limit=time_limit, seed=seed)
    layers = supermask_layers(model)
    return ApproximationResult(
        model=model,
        network=exported,
        block_sizes=tuple(int(k) for k in block_sizes),
        kept=sum(m.k for m in layers),
        total=network.parameter_count,
        layer_kept=[m.k for m in layers],
        final_loss=final,
        errors=errors,
        seconds=seconds,
        device=str(device),
        losses=losses,
        weight_scales=scales,
        zero_network=computes_zero(exported, seed=seed),
    )


def computes_zero(network: ReLUNetwork, *, seed: int = 0, samples: int = 4096) -> bool:
    """Whether ``network`` is the zero function on the unit ball: a layer of width 0 after removing
    dead units (no path from input to output), or every output exactly 0 at ``samples`` sphere points
    (a bias-free ReLU network that is 0 on a dense sample of the sphere is 0 almost everywhere)."""
    if 0 in network.dims:
        return True
    points = unit_sphere_points(network.dims[0], samples, seed=seed)
    return bool(np.all(network.forward(points) == 0.0))


def construction_errors(
    target: Any,
    *,
    block_sizes: Sequence[int],
    seed: int,
    eps: float = 0.1,
    method: str = "malach",
    samples: int = 100_000,
    adversarial: bool = True,
    exact: bool = False,
    time_limit: float = 60.0,
) -> tuple[Any, dict[str, Any]]:
    """A construction's ticket in the same G (same seed and block sizes) and the same measurements as
    :func:`approximate_target`, plus its certified bound and per-matrix densities."""
    from stronglth.constructions import construct

    started = time.perf_counter()
    ticket = construct(target, method=method, eps=eps, seed=seed, block_sizes=list(block_sizes), on_failure="best_effort")
    seconds = time.perf_counter() - started
    errors = sup_errors(ticket, target, samples=samples, adversarial=adversarial, exact=exact, time_limit=time_limit, seed=seed)
    shapes = ticket.network.shapes
    layer_density = [len(ticket.kept(t)) / (r * c) for t, (r, c) in enumerate(shapes, start=1)]
    row = {
        "method": method,
        "block_size": int(block_sizes[0]),
        "g_parameters": ticket.network.parameter_count,
        "nnz": ticket.nnz,
        "density": ticket.density,
        "train_mse": None,
        **errors,
        "certified_error": ticket.certified_error,
        "seconds": seconds,
        "layer_density": layer_density,
    }
    return ticket, row
