"""Verification past 150 units and past d = 4 (issue 17): branch-and-bound on the differential bound
against the MILP on the same tickets, and the differential bound on a 784-500-10 subset-sum ticket.

1. Malach tickets (eps 0.1, seed 1) of targets with at least 1,000 live units at d = 3 and 4: the
   exact MILP and branch-and-bound (``exact_error(method=...)``), each with a 60 s limit and a 1%
   gap, in the same run: lower and upper bounds (l2 of the output difference, sup over the unit
   ball), status, seconds, and the ratio of their gaps (upper / lower - 1) and times.
2. The subset-sum ticket of ``benchmarks/subsetsum_construct`` (target ``random_target(784, [500, 10],
   seed=0)``, ``eta = 0.01``, seed 0): the differential bound (one propagation), branch-and-bound by
   activation splitting for 60 s, the certified a-posteriori bound (docs/theory.md §3) and the
   adversarial lower bound; the ratio upper / lower of each upper bound.

    python -m benchmarks.verify_bab [--skip-mnist] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import os
import time

from stronglth import construct, random_target
from stronglth.verification import adversarial_search, certified_bound, exact_error

SMALL_D = ((3, [32, 32, 1]), (4, [32, 32, 1]))


def _row(name, result, live_units, d, widths):
    gap = result.upper / result.lower - 1 if result.lower > 0 else float("inf")
    print(
        f"    d={d} {str(widths):<12} {live_units:>6} live units  {name:<5} {result.lower:.6g} <= sup <= {result.upper:.6g}"
        f"  gap {gap:.2%}  {result.status:<12} {result.seconds:6.1f} s"
    )
    return {
        "method": name,
        "lower": result.lower,
        "upper": result.upper,
        "gap": gap,
        "status": result.status,
        "seconds": result.seconds,
    }


def small(time_limit: float) -> list[dict]:
    rows = []
    print(f"  1. d <= 4 tickets with >= 1,000 live units; l2, unit ball, rel_gap 1%, {time_limit:g} s each:")
    for d, widths in SMALL_D:
        target = random_target(d, widths, seed=1)
        ticket = construct(target, eps=0.1, seed=1)
        live = int(sum(ticket.live_widths))
        _, point, maxima = adversarial_search(ticket, target, n=20_000, starts=16, steps=100, seed=0)
        runs = {}
        for method in ("milp", "bab"):
            result = exact_error(ticket, target, method=method, time_limit=time_limit, start_point=point, seed_points=maxima)
            runs[method] = _row(method, result, live, d, widths)
        ratio_gap = runs["milp"]["gap"] / runs["bab"]["gap"] if runs["bab"]["gap"] > 0 else float("inf")
        seconds_ratio = runs["milp"]["seconds"] / runs["bab"]["seconds"]
        print(f"      MILP gap / BaB gap = {ratio_gap:.3g}; MILP seconds / BaB seconds = {seconds_ratio:.3g}")
        rows.append(
            {
                "d": d,
                "widths": widths,
                "live_units": live,
                "milp": runs["milp"],
                "bab": runs["bab"],
                "gap_ratio": ratio_gap,
                "seconds_ratio": seconds_ratio,
            }
        )
    return rows


def mnist(time_limit: float) -> dict:
    print("  2. 784-500-10 subset-sum ticket (eta 0.01, seed 0); l2, unit ball:")
    target = random_target(784, [500, 10], seed=0)
    start = time.perf_counter()
    ticket = construct(target, method="subsetsum", eta=0.01, seed=0, jobs=1, progress=False)
    print(f"    constructed in {time.perf_counter() - start:.1f} s ({int(sum(ticket.live_widths)):,} live units)")
    start = time.perf_counter()
    adversarial, point, maxima = adversarial_search(ticket, target, n=20_000, starts=16, steps=100, seed=0)
    adversarial_seconds = time.perf_counter() - start
    start = time.perf_counter()
    certified = certified_bound(ticket)
    certified_seconds = time.perf_counter() - start
    bounds = exact_error(ticket, target, method="bounds")
    bab = exact_error(ticket, target, method="bab", time_limit=time_limit, start_point=point, seed_points=maxima)
    lower = max(adversarial, bounds.lower, bab.lower)
    out = {
        "adversarial": adversarial,
        "adversarial_seconds": adversarial_seconds,
        "best_lower": lower,
        "certified": certified,
        "certified_seconds": certified_seconds,
        "bounds": bounds.upper,
        "bounds_seconds": bounds.seconds,
        "bab_upper": bab.upper,
        "bab_lower": bab.lower,
        "bab_seconds": bab.seconds,
        "ratio_certified": certified / lower,
        "ratio_bounds": bounds.upper / lower,
        "ratio_bab": bab.upper / lower,
    }
    print(
        f"    best lower bound (adversarial {adversarial:.6g} in {adversarial_seconds:.1f} s; bab {bab.lower:.6g}): {lower:.6g}"
    )
    print(f"    certified (§3)        {certified:.6g}  upper/lower {out['ratio_certified']:.3g}  ({certified_seconds:.1f} s)")
    print(f"    differential bound    {bounds.upper:.6g}  upper/lower {out['ratio_bounds']:.3g}  ({bounds.seconds:.1f} s)")
    print(f"    bab (activation split) {bab.upper:.6g}  upper/lower {out['ratio_bab']:.3g}  ({bab.seconds:.1f} s, {bab.status})")
    return out


def main(argv=None) -> dict:
    from benchmarks._record import write_record

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-mnist", action="store_true")
    parser.add_argument("--skip-small", action="store_true")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(f"verify_bab (load average at start {load[0]:.2f})")
    record: dict = {"load_average_start": load[0], "time_limit": args.time_limit}
    if not args.skip_small:
        record["small"] = small(args.time_limit)
    if not args.skip_mnist:
        record["mnist"] = mnist(args.time_limit)
    record["load_average_end"] = os.getloadavg()[0]
    print(f"  load average at end {record['load_average_end']:.2f}; record: {write_record('verify_bab', record)}")
    return record


if __name__ == "__main__":
    main()
