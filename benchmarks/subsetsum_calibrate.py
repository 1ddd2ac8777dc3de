"""Calibration of ``AUTO_CONSTANT``, the starting point of ``block_sizes="auto"`` for the subset-sum
construction (``stronglth.constructions.subsetsum.network``): an empirical rule, not a theorem.

For random admissible targets, per-weight tolerances and seeds, each layer's *least* block size
``k_min`` is measured: the first ``k = 1, 2, ...`` at which every event of the layer succeeds for
that seed (``|error| <= eta_i``). It is compared with ``log2(N_ev / (delta eta_i))``, the shape of
Pensia et al.'s ``O(log(N / (delta eta)))`` (``delta = 0.05``). The ratio ``k_min / log2(...)``
is printed per configuration, with the quantiles over all of them; ``AUTO_CONSTANT`` is chosen at
a low quantile, so that the search usually starts at or slightly below ``k_min`` and steps up.

    python -m benchmarks.subsetsum_calibrate [--seeds 5]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

DELTA = 0.05
# (d, widths, tolerance): tolerance ("eps", x) splits eps into eta_i; ("eta", x) is eta_i itself
CONFIGS = [
    (1, [1], ("eps", 0.1)),
    (1, [1], ("eps", 0.01)),
    (2, [3, 1], ("eps", 0.1)),
    (2, [3, 1], ("eps", 0.01)),
    (3, [4, 2], ("eps", 0.05)),
    (4, [8, 8, 1], ("eps", 0.1)),
    (8, [16, 4], ("eps", 0.1)),
    (8, [16, 4], ("eta", 0.01)),
    (16, [32, 10], ("eta", 0.01)),
    (32, [64, 10], ("eta", 0.01)),
    (32, [64, 10], ("eta", 0.03)),
    (64, [100, 10], ("eta", 0.01)),
    (100, [100, 10], ("eta", 0.003)),
]


def least_block_sizes(target, etas, seed: int, k_max: int = 96) -> list[int]:
    """Per layer, the first ``k >= 1`` at which every event succeeds (layer ``i`` of G depends on ``k_i`` only)."""
    from stronglth.constructions.subsetsum.layer import LayerOptions, solve_layer_events
    from stronglth.constructions.subsetsum.solver import MAX_K
    from stronglth.random_network import RandomNetwork

    out = []
    for i, (w, eta) in enumerate(zip(target.weights, etas, strict=False), start=1):
        for k in range(1, k_max + 1):
            network = RandomNetwork.for_target(target, [k] * target.depth, seed=seed)
            layer = solve_layer_events(network, i, w, k, LayerOptions(eta, i == 1, None, MAX_K, stop_on_failure=True))
            if layer.failed_events == 0:
                break
        out.append(k)
    return out


def main(argv=None) -> dict:
    from benchmarks._record import write_record
    from stronglth import bounds, random_target
    from stronglth.constructions.subsetsum.auto import AUTO_CONSTANT

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    rows, ratios = [], []
    started = time.perf_counter()
    for d, widths, (kind, value) in CONFIGS:
        for seed in range(args.seeds):
            target = random_target(d, widths, seed=seed)
            dims = target.dims
            etas = bounds.per_weight_tolerance(dims, value) if kind == "eps" else (value,) * target.depth
            n_events = bounds.event_count(dims)
            ks = least_block_sizes(target, etas, seed)
            for i, (k, eta) in enumerate(zip(ks, etas, strict=False), start=1):
                log_term = math.log2(n_events / (DELTA * eta))
                ratios.append(k / log_term)
                rows.append(
                    {
                        "dims": list(dims),
                        kind: value,
                        "seed": seed,
                        "layer": i,
                        "eta": eta,
                        "n_events": n_events,
                        "log2_term": log_term,
                        "k_min": k,
                        "ratio": k / log_term,
                        "start": max(1, math.ceil(AUTO_CONSTANT * log_term)),
                    }
                )
        mine = [r for r in rows if r["dims"] == list(target.dims) and r.get(kind) == value]
        print(
            f"{str(target.dims):>18} {kind}={value:<6} k_min by layer and seed: "
            + "; ".join(
                f"L{i}: " + ",".join(str(r["k_min"]) for r in mine if r["layer"] == i) for i in range(1, target.depth + 1)
            )
            + "  log2 term: "
            + ", ".join(f"{math.log2(n_events / (DELTA * e)):.1f}" for e in etas)
            + f"  ratio {min(r['ratio'] for r in mine):.2f}..{max(r['ratio'] for r in mine):.2f}",
            flush=True,
        )
    q = np.quantile(ratios, [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
    below = np.mean([r["start"] <= r["k_min"] for r in rows])
    gap = np.array([r["k_min"] - r["start"] for r in rows])
    print(
        f"ratio k_min / log2(N_ev/(delta eta)): min {q[0]:.3f}, 10% {q[1]:.3f}, 25% {q[2]:.3f}, median {q[3]:.3f},"
        f" 75% {q[4]:.3f}, 90% {q[5]:.3f}, max {q[6]:.3f}"
    )
    print(
        f"with AUTO_CONSTANT = {AUTO_CONSTANT}: start <= k_min in {below:.0%} of {len(rows)} layer runs;"
        f" k_min - start: median {np.median(gap):.0f}, max {gap.max()}, min {gap.min()}"
        f" ({time.perf_counter() - started:.0f} s)"
    )
    record = {
        "delta": DELTA,
        "seeds": args.seeds,
        "auto_constant": AUTO_CONSTANT,
        "ratio_quantiles": dict(zip(["min", "10%", "25%", "50%", "75%", "90%", "max"], q.tolist(), strict=False)),
        "start_at_or_below": float(below),
        "rows": rows,
    }
    print(f"record: {write_record('subsetsum_calibrate', record)}")
    return record


if __name__ == "__main__":
    main()
