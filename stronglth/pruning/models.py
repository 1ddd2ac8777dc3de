"""The networks of Frankle & Carbin (ICLR 2019, Figure 2), dense and bias-free, for the finders.

- LeNet-300-100: ``784-300-100-10`` fully connected (:func:`lenet_300_100`);
- Conv-2 / Conv-4: ``[64, 64, pool]`` / ``[64, 64, pool, 128, 128, pool]`` 3x3 convolutions, then
  ``256-256-10`` fully connected (:func:`conv2`, :func:`conv4`), no batch norm as in the paper; ``width``
  scales every channel count and hidden width (``width=0.25``: a small CPU-sized version).

Weights: Kaiming normal N(0, 2 / fan_in), seeded per layer (:func:`stronglth.baselines.models.mlp`,
:func:`stronglth.baselines.models.conv_net` with ``mode="dense"``); the paper used Gaussian Glorot.
"""

from __future__ import annotations

from torch import nn

from stronglth.baselines.models import conv_net, mlp

__all__ = ["lenet_300_100", "conv2", "conv4"]


def lenet_300_100(*, seed: int, in_features: int = 784, num_classes: int = 10, width: float = 1.0) -> nn.Sequential:
    """LeNet-300-100 (hidden widths times ``width``)."""
    widths = [max(1, round(300 * width)), max(1, round(100 * width))]
    return mlp(in_features, widths, num_classes, mode="dense", seed=seed)


def conv2(*, seed: int, in_channels: int = 1, image_size: int = 28, num_classes: int = 10, width: float = 1.0) -> nn.Sequential:
    """Conv-2 (two 3x3 convolutions, a max pool, three fully connected layers)."""
    return _conv(2, seed=seed, in_channels=in_channels, image_size=image_size, num_classes=num_classes, width=width)


def conv4(*, seed: int, in_channels: int = 1, image_size: int = 28, num_classes: int = 10, width: float = 1.0) -> nn.Sequential:
    """Conv-4 (four 3x3 convolutions, two max pools, three fully connected layers)."""
    return _conv(4, seed=seed, in_channels=in_channels, image_size=image_size, num_classes=num_classes, width=width)


def _conv(depth: int, **options) -> nn.Sequential:
    """Frankle & Carbin's Conv-``depth``: dense, bias-free, no batch norm."""
    return conv_net(depth, mode="dense", batch_norm=False, **options)
