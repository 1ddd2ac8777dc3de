"""Seeded training of a (masked) torch model, shared by every finder (docs/theory.md §8).

:func:`train` runs ``settings.iterations`` optimiser steps from ``start_iteration`` (rewinding resumes
the schedule there, Frankle et al. 2020), keeps pruned weights at exactly zero (their gradient is masked
and ``weight *= mask`` after every step), evaluates every ``settings.eval_every`` steps, and can store
iterates bit for bit (:attr:`TrainLog.iterates`). The batch order of step ``t`` depends only on
``(seed, t)``, so a run, a resumed run and a re-run give the same numbers on one device.

Loss: cross-entropy when the labels are integers (classification), the squared error summed over the
outputs and averaged over the batch otherwise (regression). The *early-stopping iteration* is Frankle &
Carbin's: the evaluation step of minimum validation loss, where the test accuracy is also read.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from stronglth import _validate
from stronglth.baselines.classification import make_optimizer, resolve_device
from stronglth.baselines.edge_popup import layer_generator
from stronglth.errors import InvalidInputError
from stronglth.pruning.masks import check_masks, prunable_layers

__all__ = ["SCHEDULES", "SplitData", "with_validation", "TrainSettings", "TrainLog", "train", "evaluate", "snapshot"]

SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class SplitData:
    """Train, validation and test tensors (``y`` int64 labels for classification, float targets for regression)."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int = 0

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def classification(self) -> bool:
        return not torch.is_floating_point(self.y_train)


def with_validation(data: Any, validation: int, *, seed: int = 0) -> SplitData:
    """``data`` (a :class:`~stronglth.baselines.data.Dataset`) with ``validation`` training examples,
    drawn by a seeded permutation, held out as the validation set (Frankle & Carbin hold out 5,000 of MNIST's)."""
    n = len(data.y_train)
    validation = _validate.positive_int(validation, "validation")
    if validation >= n:
        raise InvalidInputError(f"validation={validation} leaves no training example of {n}")
    order = torch.from_numpy(np.random.default_rng(_validate.seed(seed)).permutation(n))
    val, train_index = order[:validation].sort().values, order[validation:].sort().values
    return SplitData(
        data.name,
        data.x_train[train_index],
        data.y_train[train_index],
        data.x_train[val],
        data.y_train[val],
        data.x_test,
        data.y_test,
        int(getattr(data, "num_classes", 0)),
    )


@dataclass(frozen=True)
class TrainSettings:
    """Optimiser steps, batch size, learning rate and its schedule (Frankle & Carbin's LeNet: Adam 1.2e-3, batch 60)."""

    iterations: int = 1000
    batch_size: int = 60
    lr: float = 1.2e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "constant"
    eval_every: int = 100

    def __post_init__(self) -> None:
        _validate.positive_int(self.iterations, "iterations")
        _validate.positive_int(self.batch_size, "batch_size")
        _validate.positive_float(self.lr, "lr")
        _validate.positive_int(self.eval_every, "eval_every")
        _validate.choice(self.schedule, "schedule", SCHEDULES)

    def lr_at(self, iteration: int) -> float:
        if self.schedule == "cosine":
            return self.lr * 0.5 * (1.0 + math.cos(math.pi * iteration / self.iterations))
        return self.lr


@dataclass
class TrainLog:
    """Evaluations during training (one per ``eval_every`` steps and at the end)."""

    iterations: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float | None] = field(default_factory=list)
    iterates: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)
    stopped_at: int | None = None

    @property
    def early_stop_index(self) -> int:
        return int(np.argmin(self.val_loss))

    @property
    def early_stop_iteration(self) -> int:
        """The iteration of minimum validation loss (Frankle & Carbin's early-stopping criterion)."""
        return self.iterations[self.early_stop_index]

    def summary(self) -> dict[str, Any]:
        i = self.early_stop_index
        return {
            "early_stop_iteration": self.early_stop_iteration,
            "early_stop_test_accuracy": self.test_accuracy[i],
            "early_stop_test_loss": self.test_loss[i],
            "final_test_accuracy": self.test_accuracy[-1],
            "final_test_loss": self.test_loss[-1],
            "final_val_loss": self.val_loss[-1],
            "iterations": self.iterations[-1],
        }


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of ``model.state_dict()`` (parameters and buffers, bit for bit)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _loss(output: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    if torch.is_floating_point(y):
        per = (output - y.to(output.dtype)).pow(2).reshape(len(y), -1).sum(dim=1)
        return per.mean() if reduction == "mean" else per.sum()
    return F.cross_entropy(output, y, reduction=reduction)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 1000) -> tuple[float, float | None]:
    """Mean loss and accuracy (``None`` for regression) of ``model`` in eval mode."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    total, correct = 0.0, 0
    for start in range(0, len(y), batch_size):
        xb, yb = x[start : start + batch_size].to(device, dtype), y[start : start + batch_size].to(device)
        out = model(xb)
        total += float(_loss(out, yb, "sum"))
        if not torch.is_floating_point(yb):
            correct += int((out.argmax(dim=1) == yb).sum())
    model.train(was_training)
    n = max(1, len(y))
    return total / n, (None if torch.is_floating_point(y) else correct / n)


DEFAULT_SETTINGS = TrainSettings()
"""Frankle & Carbin's LeNet settings (Adam 1.2e-3, batch 60), 1,000 steps."""


def train(
    model: nn.Module,
    data: Any,
    settings: TrainSettings = DEFAULT_SETTINGS,
    *,
    seed: int,
    masks: Sequence[torch.Tensor] | None = None,
    start_iteration: int = 0,
    store_iterates: Sequence[int] = (),
    callback: Callable[[int, nn.Module], bool] | None = None,
    callback_every: int | None = None,
    device: str | torch.device = "auto",
    progress: bool = False,
    desc: str = "training",
) -> TrainLog:
    """Train ``model``'s trainable parameters in place, from step ``start_iteration`` to ``settings.iterations``.

    ``masks`` (one per :func:`~stronglth.pruning.masks.prunable_layers` entry) are applied first and kept;
    the optimiser starts fresh (a run resumed at ``start_iteration`` has the whole run's batches and learning
    rates from there, not its momentum or Adam moments);
    ``store_iterates``: steps whose state is copied into :attr:`TrainLog.iterates` (0 = before any step);
    ``callback(step, model)`` every ``callback_every`` steps; training stops early when it returns True.
    ``data`` needs ``x_train, y_train, x_test, y_test`` and optionally ``x_val, y_val`` (else the test set
    stands in for validation).
    """
    from tqdm.auto import tqdm

    seed = _validate.seed(seed)
    start = _validate.non_negative_int(start_iteration, "start_iteration")
    if start > settings.iterations:
        raise InvalidInputError(f"start_iteration {start} is past the end of training ({settings.iterations})")
    device = resolve_device(device)
    model.to(device)
    dtype = next(model.parameters()).dtype
    layers = prunable_layers(model) if masks is not None else []
    hooks = []
    if masks is not None:
        masks = [m.to(device) for m in check_masks(masks, [tuple(m.weight.shape) for m in layers])]
        with torch.no_grad():
            for layer, m in zip(layers, masks, strict=True):
                layer.weight.mul_(m.to(dtype))
                if layer.weight.requires_grad:
                    hooks.append(layer.weight.register_hook(lambda g, m=m: g * m.to(g.dtype)))
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise InvalidInputError("the model has no trainable parameters")
    opt = make_optimizer(params, settings.optimizer, settings.lr, settings.momentum, settings.weight_decay)
    x_train, y_train = data.x_train.to(device, dtype), data.y_train.to(device)
    x_val, y_val = (data.x_val, data.y_val) if getattr(data, "x_val", None) is not None else (data.x_test, data.y_test)
    n = len(y_train)
    per_epoch = math.ceil(n / settings.batch_size)
    log = TrainLog()
    wanted = {int(k) for k in store_iterates}
    if any(k < start or k > settings.iterations for k in wanted):
        raise InvalidInputError(f"store_iterates {sorted(wanted)} must lie in [{start}, {settings.iterations}]")

    def record(step: int) -> None:
        vl, va = evaluate(model, x_val, y_val)
        tl, ta = evaluate(model, data.x_test, data.y_test)
        log.iterations.append(step)
        log.val_loss.append(vl)
        log.val_accuracy.append(va)
        log.test_loss.append(tl)
        log.test_accuracy.append(ta)

    order = None
    try:
        if start in wanted:
            log.iterates[start] = snapshot(model)
        record(start)
        bar = tqdm(range(start, settings.iterations), desc=desc, unit="step", leave=False, disable=not progress)
        model.train()
        for step in bar:
            epoch, position = divmod(step, per_epoch)
            if position == 0 or order is None:
                order = torch.randperm(n, generator=layer_generator(seed, 7, epoch)).to(device)
            index = order[position * settings.batch_size : (position + 1) * settings.batch_size]
            for group in opt.param_groups:
                group["lr"] = settings.lr_at(step)
            loss = _loss(model(x_train[index]), y_train[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if masks is not None:
                with torch.no_grad():
                    for layer, m in zip(layers, masks, strict=True):
                        layer.weight.mul_(m.to(dtype))
            done = step + 1
            if done in wanted:
                log.iterates[done] = snapshot(model)
            if done % settings.eval_every == 0 or done == settings.iterations:
                record(done)
                model.train()
                bar.set_postfix(val_loss=f"{log.val_loss[-1]:.3g}")
            if callback is not None and callback_every and done % callback_every == 0 and callback(done, model):
                log.stopped_at = done
                if log.iterations[-1] != done:
                    record(done)
                break
    finally:
        for h in hooks:
            h.remove()
        model.eval()
    return log


def copy_model(model: nn.Module) -> nn.Module:
    """A deep copy (same weights, same buffers, separate storage)."""
    return copy.deepcopy(model)
