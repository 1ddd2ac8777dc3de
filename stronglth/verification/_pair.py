"""The pair of networks the differential bound works on, and points of its domain (docs/theory.md §10).

A construction ticket against its own target is taken in its gadget form
(:func:`~stronglth.gadget_form.gadget_network`): both networks start with the shared layer
``[I; -I]`` and the bounds are linear in ``v = (s(x), s(-x))``; other pairs densely. Output scales
are folded into the last layers (:func:`~stronglth.verification._common.without_output_scale`);
networks with biases are never split (a bias in the first layer breaks the linearity in ``v``) and
carry their bias vectors layer by layer (``f_biases``, ``g_biases``). A network with a leaky ReLU is
taken in its ReLU form (:func:`~stronglth.verification._common.relu_forms`, docs/theory.md §14.6:
twice the units, equal up to one rounding of each ``a W``), so that everything downstream bounds
plain ReLU units; its best points are evaluated on that form too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stronglth.gadget_form import gadget_network
from stronglth.relu import ReLUNetwork
from stronglth.ticket import Ticket
from stronglth.verification._common import (
    DOMAINS,
    check_domain,
    is_homogeneous,
    layer_biases,
    onto_domain,
    output_errors,
    relu_pair,
    without_output_scale,
)
from stronglth.verification._norm_bound import LayerNorms, layer_norms
from stronglth.verification._symbolic import Linear
from stronglth.verification.certified import is_own_target

__all__ = ["DOMAINS", "PairLayers", "best_point", "check_domain", "maximiser_points", "pair_layers"]


@dataclass(frozen=True)
class PairLayers:
    """The two networks as the bound propagates them: ``split`` when both start with ``[I; -I]``
    (then the layers after it, on ``v = (s(x), s(-x))``), ``paired`` when the layers have equal
    shapes (the difference is tracked; otherwise the two are bounded apart and subtracted).
    ``f_biases``, ``g_biases``: per layer of ``f_weights``, ``g_weights`` the bias vector or ``None``
    (all ``None`` for bias-free networks); ``homogeneous``: neither network has a bias (docs/theory.md
    §1.5), else the norm-based bounds (which need homogeneity) are off (``norms`` is ``None``)."""

    f: ReLUNetwork
    g: ReLUNetwork
    split: bool
    paired: bool
    f_weights: tuple[np.ndarray, ...]
    g_weights: tuple[np.ndarray, ...]
    norms: LayerNorms | None = None
    f_biases: tuple[np.ndarray | None, ...] = ()
    g_biases: tuple[np.ndarray | None, ...] = ()
    homogeneous: bool = True

    @property
    def d(self) -> int:
        return self.f.dims[0]

    @property
    def m(self) -> int:
        return 2 * self.d if self.split else self.d

    @property
    def hidden(self) -> list[int]:
        return [w.shape[0] for w in self.f_weights[:-1]] if self.paired else []


def _is_split(w: np.ndarray) -> bool:
    d = w.shape[1]
    return w.shape == (2 * d, d) and np.array_equal(w, np.vstack((np.eye(d), -np.eye(d))))


def pair_layers(net: Any, target: Any) -> PairLayers:
    """The pair to bound: a construction ticket against its own target in gadget form (ReLU only),
    else densely as plain ReLU networks (:func:`~stronglth.verification._common.relu_pair`: a leaky
    network in its ReLU form)."""
    pair = None
    if isinstance(net, Ticket) and net.target is not None and is_own_target(net, target):
        pair = gadget_network(net)
    f, g = (without_output_scale(pair[0]), without_output_scale(pair[1])) if pair is not None else relu_pair(net, target)
    homogeneous = is_homogeneous(f, g)
    fb, gb = layer_biases(f), layer_biases(g)
    split = f.depth >= 2 and g.depth >= 2 and _is_split(f.weights[0]) and _is_split(g.weights[0])
    split = split and fb[0] is None and gb[0] is None
    fw, gw = (f.weights[1:], g.weights[1:]) if split else (f.weights, g.weights)
    fb, gb = (fb[1:], gb[1:]) if split else (fb, gb)
    paired = len(fw) == len(gw) and all(a.shape == b.shape for a, b in zip(fw, gw, strict=False))
    norms = layer_norms(tuple(fw), tuple(gw), split) if paired and homogeneous else None
    return PairLayers(f, g, split, paired, tuple(fw), tuple(gw), norms, tuple(fb), tuple(gb), homogeneous)


def maximiser_points(bound: Linear, split: bool, d: int) -> np.ndarray:
    """For each row of ``bound`` (``B, n``), the point of the unit sphere maximising its linear part
    over the ball: ``C / ||C||`` (or, for ``v = (s(x), s(-x))``, each coordinate's better sign)."""
    C = bound.C.reshape(-1, bound.C.shape[-1])
    if split:
        cp, cn = C[:, :d], C[:, d:]
        x = np.where(cp >= cn, np.maximum(cp, 0.0), -np.maximum(cn, 0.0))
    else:
        x = C
    length = np.linalg.norm(x, axis=1, keepdims=True)
    keep = length[:, 0] > 0
    return x[keep] / length[keep]


def best_point(layers: PairLayers, points: np.ndarray, norm: str, domain: str) -> tuple[float, np.ndarray]:
    """The largest error among ``points`` put on the domain's surface (``x / ||x||_2`` for the ball,
    ``x / ||x||_inf`` for the box; homogeneous pairs) or projected onto the domain (pairs with biases,
    :func:`~stronglth.verification._common.onto_domain`), and that point."""
    if not layers.homogeneous:
        points = onto_domain(points, domain, False)
        errors = output_errors(layers.f, layers.g, points, norm)
        i = int(np.argmax(errors))
        return float(errors[i]), points[i]
    scale = np.linalg.norm(points, axis=1) if domain == "ball" else np.abs(points).max(axis=1)
    points = points[scale > 0] / scale[scale > 0, None]
    errors = output_errors(layers.f, layers.g, points, norm)
    i = int(np.argmax(errors))
    return float(errors[i]), points[i]
