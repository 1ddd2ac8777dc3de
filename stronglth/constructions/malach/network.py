"""The theorem (Malach, Yehudai, Shalev-Shwartz, Shamir, ICML 2020, Thm 2.1; docs/theory.md §3-4):
a ticket of G of depth 2l approximating an admissible target of depth l, layer by layer.

Per layer ``i``: the budget ``eta_i = ln(1 + eps) / (l sqrt(2 n_i n_{i-1}))`` (or
``sqrt(n_i n_{i-1})`` without the ``N`` half), block sizes from :mod:`stronglth.bounds`, the layer
lemma on ``M_{2i-1}, M_{2i}``, and the certified a-posteriori bound ``E_l`` from the recursion
``E_i <= s_i E_{i-1} + c_i (R_{i-1} + E_{i-1})`` with the ticket's own ``c_i``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from typing import Any

import numpy as np

from stronglth import _validate, bounds
from stronglth.constructions._assemble import stack_layers
from stronglth.constructions.malach.gadget import RULES
from stronglth.constructions.malach.layer import LayerTicket, approximate_layer
from stronglth.errors import InvalidInputError, TicketNotFound
from stronglth.random_network import RandomNetwork
from stronglth.target import TargetNetwork
from stronglth.ticket import Ticket

__all__ = ["construct_malach", "resolve_block_sizes", "ON_FAILURE"]

ON_FAILURE = ("raise", "best_effort")
PROGRESS_MIN_READS = 50_000_000
"""With ``progress=None``, a progress bar is shown when the construction reads more values than this."""


def resolve_block_sizes(
    target: TargetNetwork,
    block_sizes: str | Sequence[int],
    *,
    eps: float,
    delta: float,
    rule: str,
    negative_half_everywhere: bool,
) -> tuple[int, ...]:
    """``"theorem"`` (a-priori, docs/theory.md §4, for ``rule``), ``"instance"`` (the target's own
    weights, best-product rule) or an explicit ``[k_1, ..., k_l]``."""
    if isinstance(block_sizes, str):
        if block_sizes == "theorem":
            return bounds.theorem_block_sizes(
                target.dims, eps, delta, rule=rule, negative_half_everywhere=negative_half_everywhere
            )
        if block_sizes == "instance":
            if rule != "best":
                raise InvalidInputError("block_sizes='instance' is the best-product bound: use it with rule='best'")
            return bounds.instance_block_sizes(
                list(target.weights), eps, delta, negative_half_everywhere=negative_half_everywhere
            )
        raise InvalidInputError(
            f"block_sizes must be 'theorem', 'instance' or a list of {target.depth} integers, got {block_sizes!r}"
        )
    if not isinstance(block_sizes, (Sequence, np.ndarray)) or len(block_sizes) != target.depth:
        raise InvalidInputError(
            f"block_sizes must be 'theorem', 'instance' or a list of {target.depth} integers, got {block_sizes!r}"
        )
    return tuple(_validate.positive_int(k, f"block size of layer {i}") for i, k in enumerate(block_sizes, start=1))


def construct_malach(
    target: TargetNetwork,
    *,
    eps: float,
    delta: float = 0.05,
    seed: int,
    block_sizes: str | Sequence[int] = "theorem",
    rule: str = "best",
    negative_half_everywhere: bool = False,
    on_failure: str = "raise",
    jobs: int = 1,
    progress: bool | None = None,
) -> Ticket:
    """A Malach-style ticket: at most two hidden units per target weight, chosen by ``rule``.

    Raises :class:`~stronglth.errors.TicketNotFound` when some ``(layer, output, input, side)``
    has no acceptable unit in its block, unless ``on_failure="best_effort"``, which returns the
    ticket of the best units found with its (larger) certified error.
    """
    started = time.perf_counter()
    if not isinstance(target, TargetNetwork):
        raise InvalidInputError(f"target must be a TargetNetwork, got {type(target).__name__}")
    target.check()
    eps = _validate.positive_float(eps, "eps")
    delta = _validate.positive_float(delta, "delta")
    if not delta < 1:
        raise InvalidInputError(f"delta must lie in (0, 1), got {delta}")
    seed = _validate.seed(seed)
    if rule not in RULES:
        raise InvalidInputError(f"unknown rule {rule!r}; choose one of {RULES}")
    if on_failure not in ON_FAILURE:
        raise InvalidInputError(f"on_failure must be one of {ON_FAILURE}, got {on_failure!r}")
    jobs = _validate.positive_int(jobs, "jobs")
    ks = resolve_block_sizes(
        target, block_sizes, eps=eps, delta=delta, rule=rule, negative_half_everywhere=negative_half_everywhere
    )
    etas = bounds.per_weight_tolerance(target.dims, eps, negative_half_everywhere=negative_half_everywhere)
    network = RandomNetwork.for_target(target, ks, seed=seed)

    dims = target.dims
    reads = sum(dims[i - 1] * k * (dims[i] + 1) for i, k in enumerate(ks, start=1))
    with ExitStack() as stack:
        executor = stack.enter_context(ProcessPoolExecutor(max_workers=jobs)) if jobs > 1 else None
        bar = None
        if progress or (progress is None and reads >= PROGRESS_MIN_READS):
            from tqdm.auto import tqdm

            bar = stack.enter_context(tqdm(total=reads, unit="value", unit_scale=True, desc="scanning G", leave=False))
        layers: list[LayerTicket] = []
        for i, (w, k, eta) in enumerate(zip(target.weights, ks, etas, strict=False), start=1):
            layer = approximate_layer(
                network,
                i,
                w,
                block_size=k,
                eta=eta,
                rule=rule,
                negative_half=(i == 1 or negative_half_everywhere),
                executor=executor,
                progress=bar,
            )
            if layer.failures and on_failure == "raise":
                raise _not_found(layer, k, eta, dims, eps, delta, rule, negative_half_everywhere)
            layers.append(layer)

    meta: dict[str, Any] = {
        "method": "malach",
        "eps": eps,
        "delta": delta,
        "rule": rule,
        "block_sizes": list(ks),
        "eta": list(etas),
        "negative_half_everywhere": negative_half_everywhere,
        "failures": sum(len(layer.failures) for layer in layers),
        "on_failure": on_failure,
    }
    return stack_layers(target, network, layers, meta, started=started)


def _not_found(layer: LayerTicket, k: int, eta: float, dims, eps, delta, rule, negative_half_everywhere) -> TicketNotFound:
    f = layer.failures[0]
    suggested = bounds.theorem_block_sizes(dims, eps, delta, rule=rule, negative_half_everywhere=negative_half_everywhere)[
        f.layer - 1
    ]
    side = "P (u > 0)" if f.side > 0 else "N (u < 0)"
    return TicketNotFound(
        f"width too small: layer {f.layer}, output {f.output}, input {f.input}, side {side}:"
        f" best error {f.best_error:.3g} > eta = {eta:.3g} (rule {rule!r}) among {k} candidates;"
        f" the bounds suggest block size {suggested}"
        f" ({len(layer.failures)} event(s) failed in this layer; on_failure='best_effort' returns the best ticket)"
    )
