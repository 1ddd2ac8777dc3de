"""Classification with edge-popup (Ramanujan et al., CVPR 2020; docs/theory.md §8), or ordinary dense
training for the baseline, on a :class:`~stronglth.baselines.data.Dataset`: :func:`train_classifier`.

Runs on ``device="auto"``: CUDA when present, the CPU otherwise; randomness only through ``seed=``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from stronglth import _validate
from stronglth.baselines.edge_popup import layer_generator
from stronglth.baselines.models import kept_weights, prunable_weights
from stronglth.errors import InvalidInputError

__all__ = ["OPTIMIZERS", "resolve_device", "make_optimizer", "TrainResult", "train_classifier", "evaluate"]

OPTIMIZERS = ("sgd", "adam")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"``: CUDA when available, else the CPU; anything else as ``torch.device`` reads it."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise InvalidInputError(f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda'") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError("device 'cuda' requested but CUDA is not available; use --device auto or cpu")
    return resolved


def make_optimizer(
    params: list[nn.Parameter], name: str, lr: float, momentum: float, weight_decay: float
) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=False)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    raise InvalidInputError(f"unknown optimizer {name!r}; choose one of {OPTIMIZERS}")


@dataclass(frozen=True)
class TrainResult:
    """Accuracies after training, the final training loss, and the model's kept/total weights."""

    test_accuracy: float
    train_accuracy: float
    final_loss: float
    kept: int
    total: int
    seconds: float
    epochs: int
    device: str

    @property
    def density(self) -> float:
        return self.kept / self.total


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 1024) -> float:
    """Accuracy of ``model`` on ``(x, y)`` in eval mode (batch norm with running statistics)."""
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for start in range(0, len(y), batch_size):
        logits = model(x[start : start + batch_size].to(device))
        correct += int((logits.argmax(dim=1).cpu() == y[start : start + batch_size]).sum())
    return correct / max(1, len(y))


def train_classifier(
    model: nn.Module,
    data: Any,
    *,
    epochs: int = 20,
    batch_size: int = 128,
    lr: float = 0.1,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    optimizer: str = "sgd",
    seed: int = 0,
    device: str | torch.device = "auto",
    progress: bool = True,
    desc: str | None = None,
) -> TrainResult:
    """Cross-entropy training of the trainable parameters (the scores of a supermask model, the
    weights of a dense one), cosine learning rate over all steps, batches from a seeded permutation."""
    from tqdm.auto import tqdm

    epochs = _validate.positive_int(epochs, "epochs")
    batch_size = _validate.positive_int(batch_size, "batch_size")
    device = resolve_device(device)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise InvalidInputError("the model has no trainable parameters")
    opt = make_optimizer(params, optimizer, lr, momentum, weight_decay)
    x_train, y_train = data.x_train.to(device), data.y_train.to(device)
    n = len(y_train)
    steps = epochs * math.ceil(n / batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    generator = layer_generator(seed, 7)
    started = time.perf_counter()
    loss_value = float("nan")
    bar = tqdm(range(epochs), desc=desc or "edge-popup", unit="epoch", leave=False, disable=not progress)
    for _ in bar:
        model.train()
        order = torch.randperm(n, generator=generator).to(device)
        total, count = 0.0, 0
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            loss = F.cross_entropy(model(x_train[index]), y_train[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            total += float(loss.detach()) * len(index)
            count += len(index)
        loss_value = total / count
        bar.set_postfix(loss=f"{loss_value:.3f}")
    seconds = time.perf_counter() - started
    return TrainResult(
        test_accuracy=evaluate(model, data.x_test, data.y_test),
        train_accuracy=evaluate(model, data.x_train, data.y_train),
        final_loss=loss_value,
        kept=kept_weights(model),
        total=prunable_weights(model),
        seconds=seconds,
        epochs=epochs,
        device=str(device),
    )
