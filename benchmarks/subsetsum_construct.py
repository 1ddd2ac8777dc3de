"""The subset-sum construction at MNIST scale: the sparsest ticket within eta, against the
least-error one, in one run.

Target: a random admissible 784-500-10 network (``random_target(784, [500, 10], seed=0)``, 397k
weights), per-weight tolerance ``eta = 0.01``, G's seed 0, ``jobs=2``. Each phase runs in a fresh
subprocess (its peak memory is its own) and times ``construct`` + ``ticket.audit()`` (every kept
value regenerated from G and compared bit for bit):

- ``sparsest``: default arguments (``objective="sparsest"``, ``block_sizes="auto"``);
- ``least_error``: ``objective="least_error"``, otherwise the same (the default of earlier
  versions): the baseline of the ratio;
- ``least_error_max_size2``, ``subset_size2``, ``subset_size4``: explicit block sizes 48 and 37 (what
  "auto" finds), ``on_failure="best_effort"``: bounded memory for ``max_size`` / ``subset_size``
  (``max_size=2`` used to enumerate all subsets and filter: past 4 minutes and 11 GB).

Printed per phase: seconds (construct, audit), peak memory (the process plus ``jobs`` times its
largest worker), nnz, kept second-layer weights per target weight, the largest per-weight error
(``gadget_form.weight_errors``), certified error, failed events; then the ratios sparsest /
least_error (time and nnz) and the public reference point (docs/theory.md §9: Pensia et al.,
77,266 s on 36 cores for a similar, not identical, task). ``OPENBLAS_NUM_THREADS=1`` in the
subprocesses: OpenBLAS's threaded SVD is 10-20x slower on this 2-core machine.

    python -m benchmarks.subsetsum_construct [--skip-baseline]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

D, WIDTHS, SEED, ETA, JOBS = 784, (500, 10), 0, 0.01, 2
EXPLICIT = {"block_sizes": [48, 37], "on_failure": "best_effort"}
PHASES: dict[str, dict] = {
    "sparsest": {},
    "least_error": {"objective": "least_error"},
    "least_error_max_size2": {"objective": "least_error", "max_size": 2, **EXPLICIT},
    "subset_size2": {"subset_size": 2, **EXPLICIT},
    "subset_size4": {"subset_size": 4, **EXPLICIT},
}
REFERENCE_SECONDS, REFERENCE_CORES, REFERENCE_KEPT = 77_266, 36, 3_725_871


def phase(name: str) -> dict:
    import resource

    import numpy as np

    from stronglth import random_target
    from stronglth.constructions import construct
    from stronglth.gadget_form import weight_errors

    target = random_target(D, list(WIDTHS), seed=SEED)
    start = time.perf_counter()
    ticket = construct(target, method="subsetsum", eta=ETA, seed=SEED, jobs=JOBS, progress=False, **PHASES[name])
    built = time.perf_counter()
    ticket.audit()
    audited = time.perf_counter()
    errors = weight_errors(ticket)
    assert errors is not None
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    second_layer_kept = sum(ticket.kept(2 * i).rows.size for i in range(1, target.depth + 1))
    return {
        "options": PHASES[name],
        "block_sizes": ticket.meta["block_sizes"],
        "auto_tried": ticket.meta["auto_tried"],
        "construct_seconds": built - start,
        "audit_seconds": audited - built,
        "total_seconds": audited - start,
        "peak_bytes": self_rss + JOBS * child_rss,
        "nnz": ticket.nnz,
        "second_layer_kept": second_layer_kept,
        "kept_per_target_weight": second_layer_kept / target.parameter_count,
        "largest_weight_error": float(max(np.abs(e).max() for e in errors)),
        "parameters": ticket.network.parameter_count,
        "certified_error": ticket.certified_error,
        "failures": ticket.meta["failures"],
    }


def _run(name: str) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "benchmarks.subsetsum_construct", "--phase", name]
    proc = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _print(name: str, r: dict) -> None:
    print(f"  {name} {r['options'] or '(default arguments)'}: block sizes {r['block_sizes']}")
    print(
        f"    {r['total_seconds']:.1f} s = construct {r['construct_seconds']:.1f} s + audit {r['audit_seconds']:.2f} s;"
        f" peak memory {r['peak_bytes'] / 2**30:.2f} GiB"
    )
    print(
        f"    nnz {r['nnz']:,} ({r['second_layer_kept']:,} second-layer weights, {r['kept_per_target_weight']:.3g} per target"
        f" weight); largest per-weight error {r['largest_weight_error']:.4g} (eta {ETA}); certified error"
        f" {r['certified_error']:.4g}; failed events {r['failures']}"
    )


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-baseline", action="store_true", help="skip the least-error phase (about 90 s)")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(phase(args.phase)))
        return {}
    from benchmarks._record import write_record

    print(f"subset-sum construction: target {D}-{'-'.join(map(str, WIDTHS))} (seed {SEED}), eta = {ETA}, jobs = {JOBS}")
    load = os.getloadavg()
    results = {}
    for name in PHASES:
        if name == "least_error" and args.skip_baseline:
            continue
        results[name] = _run(name)
        _print(name, results[name])
    sparsest = results["sparsest"]
    ratios: dict[str, float] = {}
    if "least_error" in results:
        base = results["least_error"]
        ratios = {"time": sparsest["total_seconds"] / base["total_seconds"], "nnz": sparsest["nnz"] / base["nnz"]}
        print(f"  sparsest / least_error: time {ratios['time']:.3f}, nnz {ratios['nnz']:.4f}")
    print(
        f"  vs Pensia et al.'s published run (trained target; 77,266 s on 36 cores, {REFERENCE_KEPT:,} weights kept):"
        f" {REFERENCE_SECONDS / sparsest['total_seconds']:.0f}x less wall-clock;"
        f" kept second-layer weights {sparsest['second_layer_kept'] / REFERENCE_KEPT:.3f}x theirs"
    )
    print(f"  load average at start: {load[0]:.2f}, at end: {os.getloadavg()[0]:.2f}")
    record = {
        "target": {"d": D, "widths": list(WIDTHS), "seed": SEED},
        "eta": ETA,
        "jobs": JOBS,
        "load_average": {"start": load[0], "end": os.getloadavg()[0]},
        "reference": {"seconds": REFERENCE_SECONDS, "cores": REFERENCE_CORES, "kept": REFERENCE_KEPT},
        "ratios_sparsest_over_least_error": ratios,
        **results,
    }
    path = write_record("subsetsum_construct", record)
    print(f"  record: {path}")
    return record


if __name__ == "__main__":
    main()
