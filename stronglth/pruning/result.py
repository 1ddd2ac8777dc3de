"""What every finder returns: :class:`PruningResult` (masks, and the model they apply to)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from stronglth.pruning.masks import collapsed_layers, layer_mask_densities, masks_density

__all__ = ["PruningResult"]


@dataclass
class PruningResult:
    """A mask per prunable layer and the model it applies to (pruned weights already zero).

    ``model`` holds the weights the ticket starts from: the initial weights (pruning at init, IMP with
    reset, early-bird with reset, and the strong-ticket finders, whose weights never change), the rewound
    iterate (IMP with rewinding), or the trained weights (learning-rate rewinding). ``trained`` is the
    model after the finder's own last training, when it trains one; ``info`` holds JSON facts
    (rounds, drawn epoch, ...), ``history`` one dict per round or epoch.
    """

    method: str
    masks: list[torch.Tensor]
    model: nn.Module
    density: Any
    scope: str
    trained: nn.Module | None = None
    info: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    round_masks: list[list[torch.Tensor]] = field(default_factory=list)
    reset_state: dict[str, torch.Tensor] | None = None
    """The stored state ``model`` was reset to before masking (IMP: the initial weights or the rewound iterate)."""

    @property
    def achieved_density(self) -> float:
        """Fraction of all prunable weights kept."""
        return masks_density(self.masks)

    @property
    def layer_densities(self) -> list[float]:
        return layer_mask_densities(self.masks)

    @property
    def kept(self) -> list[int]:
        return [int(m.sum()) for m in self.masks]

    @property
    def collapsed(self) -> list[int]:
        """Layers that keep no weight (layer collapse)."""
        return collapsed_layers(self.masks)

    def row(self) -> dict[str, Any]:
        """The JSON facts of the result (no tensors)."""
        return {
            "method": self.method,
            "scope": self.scope,
            "density": self.achieved_density,
            "layer_densities": self.layer_densities,
            "kept": self.kept,
            "collapsed_layers": self.collapsed,
            **self.info,
        }
