"""The Orseau et al. construction (docs/theory.md §13) against the subset-sum one, on one depth-2
target, at eps = 0.4, 0.2, 0.1, 0.05, in one run.

Target: ``random_target(8, [8, 4], seed=0)``; G's seed 0; ``delta = 0.05``. Per eps and run
(``orseau``: the theorem's block sizes; ``orseau_auto``: ``block_sizes="auto"``, the least that work
for this G; ``subsetsum``: its default ``block_sizes="auto"``),
``construct`` + ``ticket.audit()`` are timed, and recorded: G's hidden widths and parameter count,
the block sizes (``orseau``: the theorem's, ``bounds.orseau_block_sizes``; ``subsetsum``: what
``block_sizes="auto"`` finds), the units kept per target weight (mean and max over the target's
weights, both halves), the paper's bound on it for Orseau (``bounds.orseau_units_per_weight_bound``),
nnz, the certified error and the sampled l2 sup error (20,000 points of the sphere, a lower bound).
The ratios orseau / subsetsum and orseau_auto / subsetsum (G's parameters, nnz, time) are printed per
eps; the record goes to
``benchmarks/results/orseau_construct.json``.

    python -m benchmarks.orseau_construct
"""

from __future__ import annotations

import os
import time

import numpy as np

from stronglth import bounds, random_target
from stronglth.constructions import construct
from stronglth.verification import sampled_error

D, WIDTHS, SEED, DELTA = 8, (8, 4), 0, 0.05
EPSILONS = (0.4, 0.2, 0.1, 0.05)
RUNS = {"orseau": {}, "orseau_auto": {"block_sizes": "auto"}, "subsetsum": {}}
"""Name -> construct keywords: Orseau at the theorem's block sizes and at the measured least ones, subset-sum's "auto"."""


def units_per_weight(ticket) -> np.ndarray:
    """Kept second-layer entries per target weight ``(o, j)``: units of block ``j`` kept for output ``o``."""
    counts = []
    for i, k in enumerate(ticket.meta["block_sizes"], start=1):
        w = ticket.target.weights[i - 1]
        second = ticket.kept(2 * i)
        count = np.zeros(w.shape, dtype=np.int64)
        np.add.at(count, (second.rows, second.cols // k), 1)
        counts.append(count.ravel())
    return np.concatenate(counts)


def run(name: str, eps: float) -> dict:
    target = random_target(D, list(WIDTHS), seed=SEED)
    method = "orseau" if name.startswith("orseau") else name
    start = time.perf_counter()
    ticket = construct(target, method=method, eps=eps, delta=DELTA, seed=SEED, **RUNS[name])
    built = time.perf_counter()
    ticket.audit()
    audited = time.perf_counter()
    sampled, _ = sampled_error(ticket, target, n=20_000, seed=1)
    units = units_per_weight(ticket)
    out = {
        "block_sizes": ticket.meta["block_sizes"],
        "hidden_widths": list(ticket.network.hidden_widths),
        "parameters": ticket.network.parameter_count,
        "nnz": ticket.nnz,
        "units_per_weight_mean": float(units.mean()),
        "units_per_weight_max": int(units.max()),
        "certified_error": ticket.certified_error,
        "sampled_error": float(sampled),
        "construct_seconds": built - start,
        "audit_seconds": audited - built,
    }
    if method == "orseau":
        out["theorem_block_sizes"] = ticket.meta["theorem_block_sizes"]
        etas = bounds.per_weight_tolerance(target.dims, eps)
        out["units_per_weight_bound"] = [
            bounds.orseau_units_per_weight_bound(eta, 1.0, 2 if i == 1 else 1) for i, eta in enumerate(etas, start=1)
        ]
        out["hyperbolic_a"] = ticket.meta["hyperbolic_a"]
        out["levels"] = ticket.meta["levels"]
    return out


def main() -> dict:
    from benchmarks._record import write_record

    load = os.getloadavg()
    print(f"orseau vs subsetsum: target {D}-{'-'.join(map(str, WIDTHS))} (seed {SEED}), delta = {DELTA}; load {load[0]:.2f}")
    results: dict[str, dict[str, dict]] = {}
    for eps in EPSILONS:
        row = {name: run(name, eps) for name in RUNS}
        results[str(eps)] = row
        s = row["subsetsum"]
        for name in ("orseau", "orseau_auto"):
            o = row[name]
            row[f"ratios_{name}_over_subsetsum"] = {
                "parameters": o["parameters"] / s["parameters"],
                "nnz": o["nnz"] / s["nnz"],
                "seconds": (o["construct_seconds"] + o["audit_seconds"]) / (s["construct_seconds"] + s["audit_seconds"]),
            }
        for name in RUNS:
            r = row[name]
            bound = f" (bound {r['units_per_weight_bound']})" if name.startswith("orseau") else ""
            print(
                f"  eps {eps} {name:11s}: k {r['block_sizes']}, G {r['parameters']:,} weights; units/weight mean"
                f" {r['units_per_weight_mean']:.2f} max {r['units_per_weight_max']}{bound}; nnz {r['nnz']:,};"
                f" sampled {r['sampled_error']:.4g} <= certified {r['certified_error']:.4g};"
                f" {r['construct_seconds'] + r['audit_seconds']:.2f} s"
            )
        for name in ("orseau", "orseau_auto"):
            ratios = row[f"ratios_{name}_over_subsetsum"]
            print(
                f"  eps {eps} {name} / subsetsum: parameters {ratios['parameters']:.2f}, nnz {ratios['nnz']:.2f},"
                f" time {ratios['seconds']:.2f}"
            )
    end = os.getloadavg()[0]
    print(f"  load average at start: {load[0]:.2f}, at end: {end:.2f}")
    record = {
        "target": {"d": D, "widths": list(WIDTHS), "seed": SEED},
        "delta": DELTA,
        "load_average": {"start": load[0], "end": end},
        "results": results,
    }
    path = write_record("orseau_construct", record)
    print(f"  record: {path}")
    return record


if __name__ == "__main__":
    main()
