"""Batched exact subset-sum (``stronglth.constructions.subsetsum.solver.solve``) against brute force.

Problems as the subset-sum construction poses them: each row holds ``k`` products ``v u`` of
``U[-1, 1]`` pairs and a target weight in ``[-0.5, 0.5]``. For ``k = 8, 12, 16, 20, 24`` the
solver's throughput (problems per second, one process) is measured against a naive baseline doing
the same work in the same run: full enumeration of the ``2^k`` subset sums of each row by doubling
(vectorised numpy over rows, in chunks of ``2^16`` sums, work arrays reused), on fewer rows. Both
answers are checked to agree (``|error|`` within ``1e-12`` of the scale) on the baseline's rows.

    python -m benchmarks.subsetsum_solve [--seconds 2.0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

KS = (8, 12, 16, 20, 24)
SEED = 0
CHUNK_BITS = 16
BATCH_ELEMENTS = 2**20  # the baseline's work arrays: 8 MiB each, like the solver's batches


def problems(n_rows: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, k, n_rows])
    values = rng.uniform(-1, 1, (n_rows, k)) * rng.uniform(-1, 1, (n_rows, k))
    return values, rng.uniform(-0.5, 0.5, n_rows)


def brute_force(values: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Naive baseline: ``min |sum - target|`` over all ``2^k`` subsets of each row.

    The low ``min(k, 16)`` values' subset sums are enumerated by doubling, once; every choice of
    the high values adds its own sum to all of them. Returns the best ``|error|`` per row.
    """
    n_rows, k = values.shape
    low = min(k, CHUNK_BITS)
    rows_per_batch = max(1, BATCH_ELEMENTS >> low)
    sums = np.empty((min(n_rows, rows_per_batch), 1 << low))  # work arrays reused: no page faults
    work = np.empty_like(sums)
    best = np.full(n_rows, np.inf)
    for start in range(0, n_rows, rows_per_batch):
        rows = slice(start, start + rows_per_batch)
        v, s, w = values[rows], sums[: len(values[rows])], work[: len(values[rows])]
        s[:, 0] = 0.0
        for h in range(low):
            width = 1 << h
            np.add(s[:, :width], v[:, h : h + 1], out=s[:, width : 2 * width])
        s -= targets[rows, None]
        for code in range(1 << (k - low)):
            chosen = ((code >> np.arange(k - low)) & 1).astype(bool)
            np.add(s, v[:, low:][:, chosen].sum(axis=1)[:, None], out=w)
            np.abs(w, out=w)
            np.minimum(best[rows], w.min(axis=1), out=best[rows])
    return best


def _throughput(function, n_rows: int, k: int, seconds: float) -> tuple[float, int, object]:
    """Problems per second of ``function(values, targets)``, growing the batch until it takes
    about ``seconds``; best of 3 runs at that size."""
    while True:
        values, targets = problems(n_rows, k, SEED)
        start = time.perf_counter()
        function(values, targets)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds / 3 or n_rows >= 2**22:
            break
        n_rows = int(n_rows * min(16.0, max(2.0, seconds / 3 / max(elapsed, 1e-6))))
    best, result = elapsed, None
    for _ in range(2):
        start = time.perf_counter()
        result = function(values, targets)
        best = min(best, time.perf_counter() - start)
    return n_rows / best, n_rows, result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="target time of each measurement (per k and method)")
    args = parser.parse_args(argv)
    from benchmarks._record import peak_memory_bytes, write_record
    from stronglth.constructions.subsetsum.solver import solve

    rows = []
    print("exact subset-sum, B problems of k values (U[-1,1] products), targets U[-0.5, 0.5], one process")
    print(f"{'k':>3} {'solve problems/s':>17} {'brute problems/s':>17} {'ratio':>9} {'median |error|':>15}")
    for k in KS:
        rate, n_rows, _ = _throughput(solve, 256, k, args.seconds)
        brute_rate, brute_rows, brute_best = _throughput(brute_force, 4, k, args.seconds)
        values, targets = problems(brute_rows, k, SEED)
        _, errors = solve(values, targets)
        scale = np.abs(values).sum(axis=1) + np.abs(targets)
        agree = bool(np.all(np.abs(np.abs(errors) - brute_best) <= 1e-12 * scale))
        ratio = rate / brute_rate
        median_error = float(np.median(np.abs(errors)))
        flag = "" if agree else "  DISAGREE"
        print(f"{k:>3} {rate:>17,.0f} {brute_rate:>17,.0f} {ratio:>8.1f}x {median_error:>15.3g}{flag}")
        rows.append(
            {
                "k": k,
                "solve_rows": n_rows,
                "solve_problems_per_s": rate,
                "brute_rows": brute_rows,
                "brute_problems_per_s": brute_rate,
                "ratio": ratio,
                "agree_with_brute_force": agree,
                "median_abs_error": median_error,
            }
        )
    record = {"seed": SEED, "results": rows, "peak_memory": peak_memory_bytes()}
    path = write_record("subsetsum_solve", record)
    print(f"record: {path}")
    return record


if __name__ == "__main__":
    main()
