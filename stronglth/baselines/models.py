"""Models for the edge-popup baseline (Ramanujan et al., CVPR 2020; docs/theory.md §8).

- :func:`mlp`: an MLP of any widths, bias-free, ReLU between layers;
- :func:`conv_net`: Conv-2/4/6 of Frankle & Carbin (ICLR 2019), as used by Ramanujan et al.:
  blocks of two 3x3 convolutions (64, 128, 256 channels times ``width``) each followed by
  max-pooling, then fully connected layers 256-256-classes (times ``width``), non-affine batch
  norm after each convolution;
- :func:`from_random_network`: the MLP of a :class:`~stronglth.RandomNetwork` G, its weights G's own
  values, so that edge-popup and the constructions search for tickets in the same G.

``mode="edge-popup"`` builds supermask layers (frozen weights, trained scores); ``mode="dense"``
the same architecture with ordinary trainable weights (Kaiming-normal), the dense baseline.
Every model carries ``model.config``, a JSON-able dict from which :func:`build_model` rebuilds it
(:func:`save_model` / :func:`load_model` use it; files are read with ``weights_only=True``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from stronglth import _validate
from stronglth._io import atomic_write
from stronglth.baselines.edge_popup import (
    SupermaskConv2d,
    SupermaskLinear,
    check_density,
    init_weight,
    layer_generator,
)
from stronglth.errors import InvalidInputError, ShapeError, TicketFormatError

__all__ = [
    "MODES",
    "CONV_DEPTHS",
    "mlp",
    "conv_net",
    "from_random_network",
    "weight_scales",
    "build_model",
    "save_model",
    "load_model",
    "export_sequential",
    "kept_weights",
    "prunable_weights",
    "parameter_count",
]

MODES = ("edge-popup", "dense")
CONV_DEPTHS = (2, 4, 6)
MODEL_FORMAT = "stronglth-edge-popup/1"
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _densities(density: float | Sequence[float], layers: int) -> list[float]:
    if isinstance(density, (Sequence, np.ndarray)) and not isinstance(density, str):
        if len(density) != layers:
            raise InvalidInputError(f"density has {len(density)} entries, the model has {layers} layers")
        return [check_density(x, f"density of layer {i}") for i, x in enumerate(density, start=1)]
    return [check_density(density)] * layers


def _linear(
    n_in: int,
    n_out: int,
    *,
    mode: str,
    density: float,
    weight_init: str,
    scale_fan: bool,
    seed: int,
    index: int,
    dtype: torch.dtype,
) -> nn.Module:
    if mode == "edge-popup":
        return SupermaskLinear(n_in, n_out, density, weight_init, scale_fan=scale_fan, seed=_layer_seed(seed, index), dtype=dtype)
    layer = nn.Linear(n_in, n_out, bias=False, dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(
            init_weight((n_out, n_in), n_in, "kaiming_normal", generator=layer_generator(seed, index, 0), dtype=dtype)
        )
    return layer


def _conv(
    c_in: int,
    c_out: int,
    kernel: int,
    padding: int,
    *,
    mode: str,
    density: float,
    weight_init: str,
    scale_fan: bool,
    seed: int,
    index: int,
) -> nn.Module:
    if mode == "edge-popup":
        return SupermaskConv2d(
            c_in, c_out, kernel, density, weight_init, padding=padding, scale_fan=scale_fan, seed=_layer_seed(seed, index)
        )
    layer = nn.Conv2d(c_in, c_out, kernel, padding=padding, bias=False)
    with torch.no_grad():
        fan_in = c_in * kernel * kernel
        layer.weight.copy_(init_weight(layer.weight.shape, fan_in, "kaiming_normal", generator=layer_generator(seed, index, 0)))
    return layer


def _layer_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([_validate.seed(seed), index]).generate_state(1, dtype=np.uint32)[0])


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise InvalidInputError(f"mode must be one of {MODES}, got {mode!r}")
    return mode


def mlp(
    in_features: int,
    widths: Sequence[int],
    num_classes: int,
    *,
    mode: str = "edge-popup",
    density: float | Sequence[float] = 0.5,
    weight_init: str = "signed_constant",
    scale_fan: bool = False,
    seed: int = 0,
    dtype: str = "float32",
) -> nn.Sequential:
    """``Flatten, Linear(in, w_1), ReLU, ..., Linear(w_last, classes)``, bias-free; ``density`` per layer or one for all."""
    _check_mode(mode)
    dims = [_validate.positive_int(in_features, "in_features")]
    dims += [_validate.positive_int(w, f"widths[{i}]") for i, w in enumerate(widths)]
    dims += [_validate.positive_int(num_classes, "num_classes")]
    densities = _densities(density, len(dims) - 1)
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:], strict=False)):
        layers.append(
            _linear(
                n_in,
                n_out,
                mode=mode,
                density=densities[i],
                weight_init=weight_init,
                scale_fan=scale_fan,
                seed=seed,
                index=i,
                dtype=_DTYPES[dtype],
            )
        )
        if i < len(dims) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    model.config = {  # type: ignore[assignment]  # torch types Module.__setattr__ as Tensor | Module only
        "arch": "mlp",
        "in_features": dims[0],
        "widths": dims[1:-1],
        "num_classes": dims[-1],
        "mode": mode,
        "density": density if isinstance(density, (int, float)) else list(density),
        "weight_init": weight_init,
        "scale_fan": scale_fan,
        "seed": seed,
        "dtype": dtype,
    }
    return model


def conv_net(
    depth: int,
    *,
    in_channels: int = 3,
    image_size: int = 32,
    num_classes: int = 10,
    width: float = 1.0,
    mode: str = "edge-popup",
    density: float = 0.5,
    weight_init: str = "signed_constant",
    scale_fan: bool = False,
    batch_norm: bool = True,
    seed: int = 0,
) -> nn.Sequential:
    """Conv-``depth`` (2, 4 or 6) of Frankle & Carbin, channels and hidden widths times ``width``."""
    _check_mode(mode)
    if depth not in CONV_DEPTHS:
        raise InvalidInputError(f"conv depth must be one of {CONV_DEPTHS}, got {depth!r}")
    if not (isinstance(width, (int, float)) and width > 0):
        raise InvalidInputError(f"width multiplier must be a positive number, got {width!r}")
    check_density(density)
    size = _validate.positive_int(image_size, "image_size")
    if size % 2 ** (depth // 2):
        raise ShapeError(
            f"Conv-{depth} halves the image {depth // 2} times: image_size {size} must be a multiple of {2 ** (depth // 2)}"
        )
    channels = [max(1, round(c * width)) for c in (64, 128, 256)[: depth // 2]]
    hidden = max(1, round(256 * width))
    kw: dict[str, Any] = dict(mode=mode, density=density, weight_init=weight_init, scale_fan=scale_fan, seed=seed)
    layers: list[nn.Module] = []
    c_in, index = _validate.positive_int(in_channels, "in_channels"), 0
    for c in channels:
        for _ in range(2):
            layers.append(_conv(c_in, c, 3, 1, index=index, **kw))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c, affine=False))
            layers.append(nn.ReLU())
            c_in, index = c, index + 1
        layers.append(nn.MaxPool2d(2))
        size //= 2
    layers.append(nn.Flatten())
    for n_in, n_out in (
        (c_in * size * size, hidden),
        (hidden, hidden),
        (hidden, _validate.positive_int(num_classes, "num_classes")),
    ):
        layers.append(_linear(n_in, n_out, index=index, dtype=torch.float32, **kw))
        layers.append(nn.ReLU())
        index += 1
    model = nn.Sequential(*layers[:-1])
    model.config = {  # type: ignore[assignment]  # torch types Module.__setattr__ as Tensor | Module only
        "arch": f"conv{depth}",
        "in_channels": in_channels,
        "image_size": image_size,
        "num_classes": num_classes,
        "width": width,
        "mode": mode,
        "density": density,
        "weight_init": weight_init,
        "scale_fan": scale_fan,
        "batch_norm": batch_norm,
        "seed": seed,
    }
    return model


def weight_scales(
    network: Any, density: float | Sequence[float], weight_scale: float | str | Sequence[float] = 1.0
) -> list[float]:
    """One factor per matrix of G: a number for all, one per matrix, or ``"auto"``: ``sqrt(6 / (density_t
    fan_in_t))``, the factor that gives the kept U[-1, 1] weights Kaiming's variance ``2 / kept fan-in``
    (as Ramanujan et al.'s scaled signed constant does). Since the networks are positively homogeneous,
    the scaled ticket is the unscaled ticket of G times ``prod_t factor_t``."""
    densities = _densities(density, network.depth)
    if isinstance(weight_scale, str):
        # ("calibrated" is resolved by stronglth.baselines.approximation.approximate_target, which needs the target)
        if weight_scale != "auto":
            raise InvalidInputError(f"weight_scale must be a positive number, a list of them, or 'auto'; got {weight_scale!r}")
        return [float(np.sqrt(6.0 / (d * cols))) for d, (_, cols) in zip(densities, network.shapes, strict=False)]
    if isinstance(weight_scale, (Sequence, np.ndarray)):
        if len(weight_scale) != network.depth:
            raise InvalidInputError(f"weight_scale has {len(weight_scale)} entries, G has {network.depth} matrices")
        return [_validate.positive_float(s, f"weight_scale[{i}]") for i, s in enumerate(weight_scale)]
    return [_validate.positive_float(weight_scale, "weight_scale")] * network.depth


def from_random_network(
    network: Any,
    density: float | Sequence[float],
    *,
    weight_scale: float | str | Sequence[float] = 1.0,
    seed: int = 0,
    dtype: str = "float64",
) -> nn.Sequential:
    """Supermask MLP over G: layer ``t`` has G's ``M_t`` as frozen weights (times :func:`weight_scales`;
    1, the default, keeps G's values), ReLU between layers, none after the last. ``seed`` seeds the
    scores only (G's seed is G's)."""
    from stronglth.random_network import RandomNetwork

    if not isinstance(network, RandomNetwork):
        raise InvalidInputError(f"from_random_network expects a RandomNetwork, got {type(network).__name__}")
    densities = _densities(density, network.depth)
    scales = weight_scales(network, density, weight_scale)
    layers: list[nn.Module] = []
    for t in range(1, network.depth + 1):
        rows, cols = network.shapes[t - 1]
        w = torch.from_numpy(network.dense(t))
        if scales[t - 1] != 1.0:
            w = w * scales[t - 1]
        layers.append(SupermaskLinear(cols, rows, densities[t - 1], weight=w, seed=_layer_seed(seed, t), dtype=_DTYPES[dtype]))
        if t < network.depth:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    model.config = {  # type: ignore[assignment]  # torch types Module.__setattr__ as Tensor | Module only
        "arch": "random_network",
        "shapes": [list(s) for s in network.shapes],
        "network_seed": network.seed,
        "density": density if isinstance(density, (int, float)) else list(density),
        "weight_scale": weight_scale if isinstance(weight_scale, (int, float, str)) else list(weight_scale),
        "seed": seed,
        "dtype": dtype,
    }
    return model


def build_model(config: dict[str, Any]) -> nn.Sequential:
    """Rebuild a model from its ``config`` (weights and scores as at construction: load a state to restore training)."""
    config = dict(config)
    arch = config.pop("arch", None)
    if arch == "mlp":
        return mlp(config.pop("in_features"), config.pop("widths"), config.pop("num_classes"), **config)
    if isinstance(arch, str) and arch.startswith("conv") and arch[4:].isdigit():
        return conv_net(int(arch[4:]), **config)
    if arch == "random_network":
        from stronglth.random_network import RandomNetwork

        network = RandomNetwork(config.pop("shapes"), seed=config.pop("network_seed"))
        return from_random_network(network, config.pop("density"), **config)
    raise InvalidInputError(f"unknown model architecture {arch!r}")


def save_model(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write ``{format, config (JSON), state_dict}`` with ``torch.save``, atomically (tensors and
    strings only: loadable with ``weights_only=True``)."""
    config = getattr(model, "config", None)
    if config is None:
        raise InvalidInputError("model has no .config: build it with mlp(), conv_net() or from_random_network()")
    path = Path(path)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_write(path, "wb") as f:  # the one atomic writer: complete or absent, never partial
        torch.save({"format": MODEL_FORMAT, "config": json.dumps(config), "state_dict": state}, f)
    return path


def load_model(path: str | os.PathLike, *, map_location: Any = "cpu") -> nn.Sequential:
    """Read a file of :func:`save_model` (``torch.load(..., weights_only=True)``: no pickled code runs)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such model file")
    try:
        blob = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several unrelated types for foreign files
        raise TicketFormatError(
            f"{path}: not a model file readable with weights_only=True ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(blob, dict) or blob.get("format") != MODEL_FORMAT:
        raise TicketFormatError(f"{path}: not a {MODEL_FORMAT} file")
    model = build_model(json.loads(blob["config"]))
    model.load_state_dict(blob["state_dict"])
    return model.to(map_location)


def export_sequential(model: nn.Module) -> nn.Sequential:
    """The masked MLP as an ``nn.Sequential`` of bias-free ``Linear`` (effective weights ``mask * weight``,
    float64) and ``ReLU``: what :mod:`stronglth.verification` reads. ``Flatten`` layers are dropped."""
    layers: list[nn.Module] = []
    for m in model.children() if isinstance(model, nn.Sequential) else [model]:
        if isinstance(m, nn.Flatten):
            continue
        if isinstance(m, (SupermaskLinear, nn.Linear)):
            if isinstance(m, nn.Linear) and m.bias is not None:
                raise InvalidInputError("export_sequential: a Linear layer has a bias")
            w = m.effective_weight() if isinstance(m, SupermaskLinear) else m.weight
            linear = nn.Linear(w.shape[1], w.shape[0], bias=False, dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(w.detach().cpu().double())
            layers.append(linear)
        elif isinstance(m, nn.ReLU):
            layers.append(nn.ReLU())
        else:
            raise InvalidInputError(
                f"export_sequential: only Linear/ReLU MLPs export to a ReLU network, found {type(m).__name__}"
            )
    return nn.Sequential(*layers)


def kept_weights(model: nn.Module) -> int:
    """Weights the model uses: kept weights of supermask layers, all weights of dense layers."""
    total = 0
    for m in model.modules():
        if isinstance(m, (SupermaskLinear, SupermaskConv2d)):
            total += m.k
        elif isinstance(m, (nn.Linear, nn.Conv2d)):
            total += m.weight.numel()
    return total


def prunable_weights(model: nn.Module) -> int:
    """All weights of the model's linear and convolutional layers (the denominator of its density)."""
    return sum(
        m.weight.numel() for m in model.modules() if isinstance(m, (SupermaskLinear, SupermaskConv2d, nn.Linear, nn.Conv2d))
    )


def parameter_count(model: nn.Module) -> int:
    """Alias of :func:`prunable_weights` (no biases anywhere)."""
    return prunable_weights(model)
