"""The depth l + 1 construction (Burkholz 2022; docs/theory.md §14) against its a-priori width and
against the subset-sum construction of depth 2l (Pensia et al. 2020), measured in the same run.

Target: ``random_target(8, [8, 4], seed=0)`` (depth 2, 96 weights); G's seed 0; eps 0.4, 0.2, 0.1,
0.05; ``delta = 0.05``; both constructions with ``block_sizes="auto"`` and their default (sparsest)
objective. Per eps it prints and records, for ``burkholz``: the block sizes found, G's widths,
depth and weights, the ticket's nnz, its certified error, the sampled l2 error (20,000 points of the
sphere, a lower bound), the seconds of ``construct`` + ``audit``; the a-priori block sizes
``bounds.burkholz_theorem_block_sizes`` and G's width and weights there (the paper's bound with our
constants); the ratios found / a-priori (largest hidden width, weights); and for ``subsetsum`` its G's
weights, depth and seconds, with the ratios burkholz / subsetsum (weights, widest layer, seconds).

    python -m benchmarks.burkholz_construct

With ``--leaky`` it measures the leaky ReLU case instead (docs/theory.md §14.6): the same target with
``negative_slope`` ``a`` in 0 (the baseline, measured in the same run), 0.1, 0.5, at eps 0.4 and 0.1;
per row the block sizes found, G's widths and weights, the certified error, the sampled l2 error
(20,000 points, a lower bound), the a-priori block sizes for that ``a`` and the ratios against
``a = 0`` (weights, certified); record ``burkholz_construct_leaky``.

    python -m benchmarks.burkholz_construct --leaky
"""

from __future__ import annotations

import os
import sys
import time

from benchmarks._record import peak_memory_bytes, write_record

D, WIDTHS, SEED, DELTA = 8, (8, 4), 0, 0.05
EPSILONS = (0.4, 0.2, 0.1, 0.05)
LEAKY_SLOPES, LEAKY_EPSILONS = (0.0, 0.1, 0.5), (0.4, 0.1)


def _timed(build):
    start = time.perf_counter()
    ticket = build()
    ticket.audit()
    return ticket, time.perf_counter() - start


def main() -> dict:
    from stronglth import bounds, random_target
    from stronglth.constructions import construct
    from stronglth.verification import sampled_error

    target = random_target(D, list(WIDTHS), seed=SEED)
    rows = []
    for eps in EPSILONS:
        burkholz, b_seconds = _timed(lambda eps=eps: construct(target, method="burkholz", eps=eps, delta=DELTA, seed=SEED))
        pensia, p_seconds = _timed(lambda eps=eps: construct(target, method="subsetsum", eps=eps, delta=DELTA, seed=SEED))
        theorem = bounds.burkholz_theorem_block_sizes(target.dims, eps, DELTA)
        paper_dims = bounds.burkholz_dims(target.dims, theorem)
        sampled, _ = sampled_error(burkholz, target, n=20_000, seed=0)
        row = {
            "eps": eps,
            "burkholz": {
                "block_sizes": burkholz.meta["block_sizes"],
                "dims": list(burkholz.network.dims),
                "depth": burkholz.network.depth,
                "parameters": burkholz.network.parameter_count,
                "nnz": burkholz.nnz,
                "certified_l2": burkholz.certified_error,
                "sampled_l2_lower_bound": sampled,
                "seconds": b_seconds,
            },
            "a_priori": {
                "block_sizes": list(theorem),
                "dims": list(paper_dims),
                "parameters": bounds.burkholz_parameter_count(target.dims, theorem),
            },
            "subsetsum": {
                "block_sizes": pensia.meta["block_sizes"],
                "dims": list(pensia.network.dims),
                "depth": pensia.network.depth,
                "parameters": pensia.network.parameter_count,
                "nnz": pensia.nnz,
                "certified_l2": pensia.certified_error,
                "seconds": p_seconds,
            },
        }
        row["ratios"] = {
            "width_found_over_a_priori": max(burkholz.network.dims[1:-1]) / max(paper_dims[1:-1]),
            "parameters_found_over_a_priori": row["burkholz"]["parameters"] / row["a_priori"]["parameters"],
            "parameters_burkholz_over_subsetsum": row["burkholz"]["parameters"] / row["subsetsum"]["parameters"],
            "width_burkholz_over_subsetsum": max(burkholz.network.dims[1:-1]) / max(pensia.network.dims[1:-1]),
            "seconds_burkholz_over_subsetsum": b_seconds / p_seconds,
        }
        rows.append(row)
        b, a, p, r = row["burkholz"], row["a_priori"], row["subsetsum"], row["ratios"]
        print(
            f"eps {eps}: burkholz k {b['block_sizes']} G {b['dims']} (depth {b['depth']}, {b['parameters']:,} weights,"
            f" nnz {b['nnz']}), certified {b['certified_l2']:.3g}, sampled {sampled:.3g}, {b_seconds:.2f} s;"
            f" a priori k {a['block_sizes']} ({a['parameters']:,} weights): width x{r['width_found_over_a_priori']:.3f},"
            f" weights x{r['parameters_found_over_a_priori']:.4f}; subsetsum G {p['dims']} (depth {p['depth']},"
            f" {p['parameters']:,} weights, {p_seconds:.2f} s): weights x{r['parameters_burkholz_over_subsetsum']:.3f},"
            f" widest layer x{r['width_burkholz_over_subsetsum']:.3f}, time x{r['seconds_burkholz_over_subsetsum']:.2f}"
        )
    return _record("burkholz_construct", rows)


def _record(name: str, rows: list[dict]) -> dict:
    """The run's record (target, delta, rows, load average, peak memory), written as ``name``."""
    record = {"target": {"d": D, "widths": list(WIDTHS), "seed": SEED}, "delta": DELTA, "rows": rows}
    record["load_average"] = list(os.getloadavg())
    record["peak_memory"] = peak_memory_bytes()
    print("record:", write_record(name, record), "load average", record["load_average"])
    return record


def leaky() -> dict:
    """The leaky rows (module docstring), ``a = 0`` first: the baseline of every ratio."""
    from stronglth import bounds, random_target
    from stronglth.constructions import construct
    from stronglth.verification import sampled_error

    rows, baseline = [], {}
    for eps in LEAKY_EPSILONS:
        for a in LEAKY_SLOPES:
            target = random_target(D, list(WIDTHS), seed=SEED, negative_slope=a)
            ticket, seconds = _timed(lambda t=target, e=eps: construct(t, method="burkholz", eps=e, delta=DELTA, seed=SEED))
            theorem = bounds.burkholz_theorem_block_sizes(target.dims, eps, DELTA, negative_slope=a)
            sampled, _ = sampled_error(ticket, target, n=20_000, seed=0)
            row = {
                "negative_slope": a,
                "eps": eps,
                "block_sizes": ticket.meta["block_sizes"],
                "dims": list(ticket.network.dims),
                "parameters": ticket.network.parameter_count,
                "nnz": ticket.nnz,
                "certified_l2": ticket.certified_error,
                "sampled_l2_lower_bound": sampled,
                "seconds": seconds,
                "a_priori_block_sizes": list(theorem),
                "a_priori_parameters": bounds.burkholz_parameter_count(target.dims, theorem),
            }
            base = baseline.setdefault(eps, row)
            row["parameters_over_relu"] = row["parameters"] / base["parameters"]
            row["certified_over_relu"] = row["certified_l2"] / base["certified_l2"]
            rows.append(row)
            print(
                f"eps {eps}, a {a}: k {row['block_sizes']} G {row['dims']} ({row['parameters']:,} weights, nnz {row['nnz']}),"
                f" certified {row['certified_l2']:.3g}, sampled {sampled:.3g}, {seconds:.2f} s;"
                f" a priori k {row['a_priori_block_sizes']}"
                f" ({row['a_priori_parameters']:,} weights); against a = 0: weights x{row['parameters_over_relu']:.3f},"
                f" certified x{row['certified_over_relu']:.3f}"
            )
    return _record("burkholz_construct_leaky", rows)


if __name__ == "__main__":
    leaky() if "--leaky" in sys.argv[1:] else main()
