"""Early-bird tickets (You, Li, Xu, Fu, Wang, Chen, Baraniuk, Wang & Lin, "Drawing early-bird tickets",
ICLR 2020; docs/theory.md §8).

While the dense network trains, the magnitude mask at the target density is drawn at the end of every
epoch; the normalised Hamming distance between consecutive masks enters a FIFO of the last ``window``
(5) distances, and the ticket is drawn at the first epoch at which the FIFO is full and its maximum is
below ``threshold`` (the paper's 0.1). The paper masks channels by batch-norm scale; here the mask is on
weights (unstructured), by magnitude, like IMP's. :class:`EarlyBirdDetector` is the stopping rule alone.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from stronglth import _validate
from stronglth.errors import InvalidInputError
from stronglth.pruning.masks import check_scope, hamming_distance, masks_from_scores, prunable_layers
from stronglth.pruning.result import PruningResult
from stronglth.pruning.training import DEFAULT_SETTINGS, TrainSettings, copy_model, snapshot, train

__all__ = ["EarlyBirdDetector", "first_stable_epoch", "distance_matrix", "early_bird"]


class EarlyBirdDetector:
    """You et al.'s rule: feed one mask per epoch (:meth:`update`); it returns True at the first epoch at
    which the last ``window`` consecutive-mask distances are all below ``threshold``."""

    def __init__(self, *, window: int = 5, threshold: float = 0.1):
        self.window = _validate.positive_int(window, "window")
        self.threshold = _validate.positive_float(threshold, "threshold")
        self.fifo: deque[float] = deque(maxlen=self.window)
        self.distances: list[float] = []
        self.previous: list[torch.Tensor] | None = None
        self.epoch = 0
        self.drawn_epoch: int | None = None

    def update(self, masks: Sequence[torch.Tensor]) -> bool:
        self.epoch += 1
        masks = [m.detach().cpu().clone() for m in masks]
        if self.previous is not None:
            distance = hamming_distance(self.previous, masks)
            self.distances.append(distance)
            self.fifo.append(distance)
        self.previous = masks
        stop = len(self.fifo) == self.window and max(self.fifo) < self.threshold
        if stop and self.drawn_epoch is None:
            self.drawn_epoch = self.epoch
        return stop


def first_stable_epoch(distances: Sequence[float], *, window: int = 5, threshold: float = 0.1) -> int | None:
    """The epoch the detector draws at when ``distances[i]`` is the distance between the masks of epochs
    ``i + 1`` and ``i + 2`` (None: never). A plain reference for :class:`EarlyBirdDetector`."""
    for end in range(window, len(distances) + 1):
        if max(distances[end - window : end]) < threshold:
            return end + 1
    return None


def distance_matrix(masks: Sequence[Sequence[torch.Tensor]]) -> list[list[float]]:
    """Pairwise normalised Hamming distances between the masks of every epoch (You et al.'s Figure 2)."""
    n = len(masks)
    out = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            out[i][j] = out[j][i] = hamming_distance(masks[i], masks[j])
    return out


def early_bird(
    model: nn.Module,
    data: Any,
    density: float | Sequence[float],
    *,
    seed: int,
    scope: str = "layer",
    threshold: float = 0.1,
    window: int = 5,
    epochs: int = 20,
    settings: TrainSettings = DEFAULT_SETTINGS,
    reset: str = "init",
    stop: bool = True,
    keep_masks: bool = False,
    device: str | torch.device = "auto",
    progress: bool = False,
) -> PruningResult:
    """Train the dense ``model`` for up to ``epochs`` epochs (``settings.iterations`` is replaced), draw
    the magnitude mask at ``density`` every epoch, and return the early-bird ticket, reset to the initial
    weights (``reset="init"``) or kept at the weights of the epoch it was drawn (``"none"``).

    ``stop=False`` trains all ``epochs`` (for the distance matrix) and still reports the drawn epoch; when
    no epoch satisfies the rule, the last epoch's mask is returned and ``info["drawn"]`` is False.
    ``info``: ``drawn_epoch``, ``epochs``, ``epochs_saved`` (``epochs - drawn_epoch``), ``distances``;
    ``keep_masks``: every epoch's masks in ``round_masks``.
    """
    seed = _validate.seed(seed)
    scope = check_scope(scope)
    _validate.choice(reset, "reset", ("init", "none"))
    epochs = _validate.positive_int(epochs, "epochs")
    per_epoch = math.ceil(len(data.y_train) / settings.batch_size)
    run = dataclasses.replace(settings, iterations=epochs * per_epoch)
    detector = EarlyBirdDetector(window=window, threshold=threshold)
    dense = copy_model(model)
    init_state = snapshot(dense)
    epoch_masks: list[list[torch.Tensor]] = []
    drawn: dict[str, Any] = {}

    def on_epoch(step: int, net: nn.Module) -> bool:
        masks = masks_from_scores([m.weight.detach().abs() for m in prunable_layers(net)], density, scope)
        if keep_masks:
            epoch_masks.append([m.cpu() for m in masks])
        fired = detector.update(masks)
        if fired and "masks" not in drawn:
            drawn["masks"], drawn["state"] = [m.cpu() for m in masks], snapshot(net)
        return fired and stop

    log = train(
        dense,
        data,
        run,
        seed=seed,
        callback=on_epoch,
        callback_every=per_epoch,
        device=device,
        progress=progress,
        desc="early-bird",
    )
    if detector.epoch == 0:
        raise InvalidInputError("early-bird needs at least one full epoch of training")
    found = "masks" in drawn
    masks = drawn["masks"] if found else [m.cpu() for m in detector.previous or []]
    ticket = copy_model(dense)
    ticket.load_state_dict(init_state if reset == "init" else (drawn["state"] if found else snapshot(dense)))
    with torch.no_grad():
        for layer, m in zip(prunable_layers(ticket), masks, strict=True):
            layer.weight.mul_(m.to(layer.weight.device, layer.weight.dtype))
    drawn_epoch = detector.drawn_epoch if found and detector.drawn_epoch is not None else detector.epoch
    info = {
        "drawn": found,
        "drawn_epoch": drawn_epoch,
        "epochs": epochs,
        "epochs_trained": detector.epoch,
        "epochs_saved": epochs - drawn_epoch,
        "threshold": threshold,
        "window": window,
        "distances": list(detector.distances),
        "reset": reset,
        **{"dense_" + k: v for k, v in log.summary().items()},
    }
    return PruningResult("early-bird", masks, ticket, density, scope, trained=dense, info=info, round_masks=epoch_masks)
