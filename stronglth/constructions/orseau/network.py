"""The Orseau et al. construction (Orseau, Hutter, Rivasplata, "Logarithmic pruning is all you need",
NeurIPS 2020; docs/theory.md §13): a G of depth ``2l`` whose weights are hyperbolic, every target
weight assembled from one unit per level of its base-3/2 decomposition.

G's layout is Malach's (docs/theory.md §1.2) with blocks of ``k_i`` units per input coordinate; both
matrices of layer pair ``i`` are hyperbolic (:mod:`stronglth.distributions`): ``M_{2i-1}`` is
``hyperbolic(a_u)`` and ``M_{2i}`` is ``hyperbolic(a_v)``, chosen by
:func:`stronglth.bounds.orseau_hyperbolic_parameters` so that every needed level is equally likely. Per ``(o, j)`` the ``P`` half
(``u > 0``) builds ``A ~ w_oj`` and, in layer 1, the ``N`` half (``u < 0``) builds ``B ~ -w_oj``
(:mod:`~stronglth.constructions.orseau.block`, :mod:`~stronglth.constructions.orseau.layer`). The
ticket is in the gadget form of docs/theory.md §2-3, so its certified error is the ``E_l`` of the
recursion with the layer constants ``c_i`` of the kept weights, recomputed at audit by
:func:`stronglth.gadget_form.recomputed_certified_error`.

Width: ``block_sizes="theorem"`` (default) takes :func:`stronglth.bounds.orseau_block_sizes` for the
admissible largest weight ``min(1, 1/sqrt(n_{i-1}))`` (every level of every event covered with
probability ``>= 1 - delta``), ``"instance"`` the same with the target's own ``max |W_i|``, ``"auto"``
the least block sizes that work for this G (measured, :mod:`~stronglth.constructions.orseau.auto`),
or a list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from stronglth import _validate, bounds
from stronglth.constructions._assemble import refuse_leaky, stack_layers
from stronglth.constructions.orseau.auto import AUTO_LIMIT_FACTOR, auto_start, search_layer
from stronglth.constructions.orseau.layer import CHUNK_VALUES, OrseauLayer, decompose_layer
from stronglth.constructions.planning import DEFAULT_MAX_VALUES, ConstructionPlan, bind_options, check_max_values, check_plan
from stronglth.errors import InvalidInputError, TicketNotFound
from stronglth.random_network import RandomNetwork
from stronglth.target import TargetNetwork
from stronglth.ticket import Ticket

__all__ = ["construct_orseau", "plan_orseau", "ON_FAILURE", "BLOCK_SIZE_RULES", "RATE", "hyperbolic_spec"]

ON_FAILURE = ("raise", "best_effort")
BLOCK_SIZE_RULES = ("theorem", "instance", "auto")

RATE = 2e6
"""Values of G read (and decomposed) per second on this project's 2-core machine (one process;
``python -m benchmarks.orseau_construct``): the rate behind the plan's time."""
BASE_MEMORY = 150 * 2**20


def hyperbolic_spec(a: float) -> str:
    """The distribution spec of ``hyperbolic(a)`` (:mod:`stronglth.distributions`), ``a`` written exactly."""
    return f"hyperbolic({float(a)!r})"


@dataclass(frozen=True)
class _Resolved:
    eps: float
    etas: tuple[float, ...]
    delta: float
    seed: int
    rule: str
    block_sizes: tuple[int, ...]
    theorem_block_sizes: tuple[int, ...]
    magnitudes: tuple[float, ...]
    parameters: list[dict[str, Any]]
    on_failure: str

    @property
    def hyperbolic_a(self) -> tuple[tuple[float, float], ...]:
        """``(a_u, a_v)`` per layer pair: the distributions of ``M_{2i-1}`` and ``M_{2i}``."""
        return tuple((float(p["hyperbolic_a_u"]), float(p["hyperbolic_a_v"])) for p in self.parameters)


def _resolve(target: Any, *, eps: Any, delta: Any, seed: Any, block_sizes: Any, on_failure: Any) -> _Resolved:
    if not isinstance(target, TargetNetwork):
        raise InvalidInputError(f"target must be a TargetNetwork, got {type(target).__name__}")
    target.check()
    refuse_leaky("orseau", target)
    if target.has_biases:
        raise InvalidInputError(
            "target has biases: method 'orseau' builds bias-free targets (docs/theory.md §13); method='subsetsum'"
            " builds biases from G's own (docs/theory.md §15)"
        )
    eps = _validate.positive_float(eps, "eps")
    delta = _validate.probability(delta, "delta")
    seed = _validate.seed(seed)
    on_failure = _validate.choice(on_failure, "on_failure", ON_FAILURE)
    dims = target.dims
    theorem_magnitudes = bounds.max_weight(dims)
    theorem = bounds.orseau_block_sizes(dims, eps, delta)
    if isinstance(block_sizes, str):
        rule = _validate.choice(block_sizes, "block_sizes", BLOCK_SIZE_RULES)
        magnitudes = theorem_magnitudes if rule != "instance" else tuple(n.max_abs for n in target.layer_norms())
        ks = theorem if rule != "instance" else bounds.orseau_block_sizes(dims, eps, delta, magnitudes)
    else:
        if not isinstance(block_sizes, (Sequence, np.ndarray)) or len(block_sizes) != target.depth:
            raise InvalidInputError(
                f"block_sizes must be 'theorem', 'instance' or a list of {target.depth} integers, got {block_sizes!r}"
            )
        rule, magnitudes = "explicit", theorem_magnitudes
        ks = tuple(_validate.positive_int(k, f"block size of layer {i}") for i, k in enumerate(block_sizes, start=1))
    parameters = bounds.orseau_layer_parameters(dims, eps, magnitudes)
    etas = bounds.per_weight_tolerance(dims, eps)
    return _Resolved(eps, etas, delta, seed, rule, tuple(ks), theorem, tuple(magnitudes), parameters, on_failure)


def _shapes(dims: tuple[int, ...], ks: Sequence[int]) -> list[tuple[int, int]]:
    shapes = []
    for i, k in enumerate(ks, start=1):
        m = dims[i - 1] * k
        shapes += [(m, dims[i - 1]), (dims[i], m)]
    return shapes


def _plan(target: TargetNetwork, r: _Resolved) -> ConstructionPlan:
    dims = target.dims
    ks = r.block_sizes
    values = sum(dims[i - 1] * k * (1 + dims[i]) for i, k in enumerate(ks, start=1))
    if r.rule == "auto":  # at most: doubling up to AUTO_LIMIT_FACTOR x the theorem's, then bisection
        values *= 4 * AUTO_LIMIT_FACTOR
    widths = (dims[0],) + tuple(w for i, k in enumerate(ks, start=1) for w in (dims[i - 1] * k, dims[i]))
    parameters = sum(dims[i - 1] * k * (dims[i - 1] + dims[i]) for i, k in enumerate(ks, start=1))
    return ConstructionPlan(
        method="orseau",
        target_dims=dims,
        block_sizes=ks,
        final=r.rule != "auto",
        widths=widths,
        parameter_count=parameters,
        values=int(values),
        rate=RATE,
        jobs=1,
        memory=BASE_MEMORY + 8 * 3 * min(CHUNK_VALUES, max(dims[i] * dims[i - 1] * k for i, k in enumerate(ks, start=1))),
    )


def plan_orseau(target: TargetNetwork, **options: Any) -> ConstructionPlan:
    """The plan of :func:`construct_orseau` with the same keyword arguments, before any value of G is read."""
    bound = bind_options(construct_orseau, target, options)
    check_max_values(bound.pop("max_values"))
    return _plan(target, _resolve(target, **bound))


def _not_found(layer: OrseauLayer) -> TicketNotFound:
    output, input_, side, error, missing = layer.failures[0]
    side_name = "P (u > 0)" if side > 0 else "N (u < 0)"
    where = (
        f"level {missing} (|v u| in [(2/3)^{missing}, (2/3)^{missing - 1}]) has no unit" if missing else "every level has a unit"
    )
    return TicketNotFound(
        f"width too small: layer {layer.layer}, output {output}, input {input_}, side {side_name}: {where};"
        f" decomposition error {error:.3g} > eta = {layer.eta:.3g} with block size {layer.k}"
        f" ({layer.failed_events} event(s) failed in this layer); block_sizes='theorem' covers every level with"
        " probability >= 1 - delta, or pass on_failure='best_effort' for the best ticket"
    )


def construct_orseau(
    target: TargetNetwork,
    *,
    eps: float,
    delta: float = 0.05,
    seed: int,
    block_sizes: str | Sequence[int] = "theorem",
    on_failure: str = "raise",
    max_values: int | float = DEFAULT_MAX_VALUES,
) -> Ticket:
    """An Orseau et al. ticket (module docstring; docs/theory.md §13).

    Args:
        eps: the sup-norm budget (l2 over the unit ball), split into per-weight tolerances
            ``eta_i = bounds.per_weight_tolerance(dims, eps)``: every event within ``eta_i`` gives
            ``certified_error <= eps``.
        delta: the failure probability the theorem block sizes are sized for.
        seed: G's seed.
        block_sizes: ``"theorem"``, ``"instance"``, ``"auto"`` or ``[k_1, ..., k_l]`` (module
            docstring). ``"auto"`` measures, per layer, a block size ``k_i`` at which every event of
            *this* G succeeds while ``k_i - 1`` fails (:mod:`~stronglth.constructions.orseau.auto`;
            sizes tried in ``meta["auto_tried"]``), giving up above ``AUTO_LIMIT_FACTOR`` times the
            theorem's.
        on_failure: ``"raise"`` (:class:`~stronglth.errors.TicketNotFound` naming the layer, output,
            input, side and the first level without a unit) or ``"best_effort"`` (the greedy
            decomposition of whatever units exist; the certified error reports its error honestly).
        max_values: refuse (:class:`~stronglth.errors.TooLargeError`) a plan reading more values of G.

    ``ticket.meta`` records the method, ``eps``, ``eta``, ``delta``, the block sizes (and the
    theorem's), ``hyperbolic_a`` (``[a_u, a_v]`` per layer pair) and G's distributions, the levels
    ``K_i`` and start levels, and the measured units per target weight (``units_per_weight_max`` /
    ``_mean`` per layer) next to the bound ``units_per_weight_bound``
    (:func:`stronglth.bounds.orseau_units_per_weight_bound`).
    """
    r = _resolve(target, eps=eps, delta=delta, seed=seed, block_sizes=block_sizes, on_failure=on_failure)
    check_plan(_plan(target, r), max_values)
    specs = [hyperbolic_spec(a) for pair in r.hyperbolic_a for a in pair]
    dims = target.dims

    def attempt(i: int, k: int, ks: Sequence[int]) -> OrseauLayer:
        sizes = [*ks[: i - 1], k, *ks[i:]]  # layer pair i depends on k_i alone
        network = RandomNetwork(_shapes(dims, sizes), seed=r.seed, distributions=specs)
        return decompose_layer(network, i, target.weights[i - 1], k, eta=r.etas[i - 1], negative_half=i == 1)

    layers, tried = [], []
    ks = list(r.block_sizes)
    for i in range(1, target.depth + 1):
        if r.rule == "auto":
            p = r.parameters[i - 1]
            start = auto_start(int(p["levels"]), int(p["start_level"]))
            layer, attempts = search_layer(partial(attempt, i, ks=ks), start, AUTO_LIMIT_FACTOR * ks[i - 1])
            tried.append(attempts)
            if layer is None:
                last = attempt(i, AUTO_LIMIT_FACTOR * r.theorem_block_sizes[i - 1], ks)
                if r.on_failure == "raise":
                    raise _not_found(last)
                layer = last
            ks[i - 1] = layer.k
        else:
            layer = attempt(i, ks[i - 1], ks)
            if layer.failed_events and r.on_failure == "raise":
                raise _not_found(layer)
        layers.append(layer)
    network = RandomNetwork(_shapes(dims, ks), seed=r.seed, distributions=specs)
    max_abs = [n.max_abs for n in target.layer_norms()]
    meta: dict[str, Any] = {
        "method": "orseau",
        "eps": r.eps,
        "eta": list(r.etas),
        "delta": r.delta,
        "block_sizes": ks,
        "block_sizes_rule": r.rule,
        "auto_tried": tried if r.rule == "auto" else None,
        "theorem_block_sizes": list(r.theorem_block_sizes),
        "decomposition_base": 1.5,
        "hyperbolic_a": [list(pair) for pair in r.hyperbolic_a],
        "distributions": specs,
        "levels": [int(p["levels"]) for p in r.parameters],
        "start_levels": [int(p["start_level"]) for p in r.parameters],
        "failure_probability_bound": bounds.orseau_failure_probability(dims, r.eps, ks, r.magnitudes),
        "units_per_weight_max": [int(layer.units.max()) for layer in layers],
        "units_per_weight_mean": [float(layer.units.mean()) for layer in layers],
        "units_per_weight_bound": [
            bounds.orseau_units_per_weight_bound(eta, m, 2 if i == 1 else 1)
            for i, (eta, m) in enumerate(zip(r.etas, max_abs, strict=True), start=1)
        ],
        "failures": sum(layer.failed_events for layer in layers),
        "on_failure": r.on_failure,
    }
    return stack_layers(target, network, layers, meta)
