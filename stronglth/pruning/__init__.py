"""Ticket finders: the lottery-ticket literature's algorithms beside the constructions (docs/theory.md §8).

One interface (:func:`~stronglth.pruning.registry.prune`, registry :data:`~stronglth.pruning.registry.FINDERS`):
a torch model, data, a target density (fraction kept, edge-popup's counts), per layer or global, a seed;
it returns the masks and the model they apply to (:class:`~stronglth.pruning.result.PruningResult`).

- :mod:`~stronglth.pruning.masks`: prunable layers, top-k masks, densities, Hamming distance, random masks;
- :mod:`~stronglth.pruning.training`: seeded masked training with rewinding and early-stopping iteration;
- :mod:`~stronglth.pruning.lottery`: IMP (iterative, one-shot, rewinding, learning-rate rewinding) and controls;
- :mod:`~stronglth.pruning.early_bird`: early-bird tickets;
- :mod:`~stronglth.pruning.at_init`: SynFlow, SNIP, magnitude and random pruning at initialisation;
- :mod:`~stronglth.pruning.supermasks`: learned Bernoulli supermasks over frozen weights;
- :mod:`~stronglth.pruning.popup`: edge-popup under the same interface;
- :mod:`~stronglth.pruning.planting`: planted tickets (Fischer & Burkholz 2022) and the regression task;
- :mod:`~stronglth.pruning.models`: LeNet-300-100 and Conv-2/4 of Frankle & Carbin (dense, bias-free);
- :mod:`~stronglth.pruning.registry`: the registry and :func:`prune`.
"""

from __future__ import annotations

from stronglth._extras import check_installed

check_installed("torch", extra="torch", purpose="stronglth.pruning")

from stronglth.pruning.masks import apply_masks, hamming_distance, masks_from_scores, prunable_layers  # noqa: E402
from stronglth.pruning.registry import FINDERS, Finder, get_finder, prune  # noqa: E402
from stronglth.pruning.result import PruningResult  # noqa: E402
from stronglth.pruning.training import TrainSettings, train, with_validation  # noqa: E402

__all__ = [
    "FINDERS",
    "Finder",
    "PruningResult",
    "TrainSettings",
    "apply_masks",
    "get_finder",
    "hamming_distance",
    "masks_from_scores",
    "prunable_layers",
    "prune",
    "train",
    "with_validation",
]
