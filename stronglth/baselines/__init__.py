"""Baselines to set beside the constructions: edge-popup (Ramanujan et al., CVPR 2020).

- :mod:`~stronglth.baselines.edge_popup`: supermask layers (frozen weights, trained scores, top-k
  of ``|score|`` per layer with a straight-through gradient);
- :mod:`~stronglth.baselines.models`: MLPs, Conv-2/4/6, and the MLP over the theorem's G;
- :mod:`~stronglth.baselines.data`: digits, MNIST-1D, MNIST and CIFAR-10 (binary), all offline;
- :mod:`~stronglth.baselines.approximation`: approximating a target inside G, measured like the constructions;
- :mod:`~stronglth.baselines.classification`: classification (edge-popup, or dense training as the baseline);
- :mod:`~stronglth.cli.edge_popup`: the ``stronglth edge-popup`` command.

The names below are imported on first use (PEP 562), so that ``stronglth.cli.edge_popup`` can be
registered on the main command without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from stronglth._extras import check_installed

check_installed("torch", extra="torch", purpose="stronglth.baselines")

_EXPORTS = {
    "WEIGHT_INITS": "edge_popup",
    "SupermaskLinear": "edge_popup",
    "SupermaskConv2d": "edge_popup",
    "kept_count": "edge_popup",
    "topk_mask": "edge_popup",
    "full_sort_mask": "edge_popup",
    "mlp": "models",
    "conv_net": "models",
    "from_random_network": "models",
    "build_model": "models",
    "save_model": "models",
    "load_model": "models",
    "export_sequential": "models",
    "load_dataset": "data",
    "approximate_target": "approximation",
    "construction_errors": "approximation",
    "train_classifier": "classification",
    "resolve_device": "classification",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"stronglth.baselines.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'stronglth.baselines' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
