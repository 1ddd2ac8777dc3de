"""Verification past 150 units and past d = 4 (issue 17): branch-and-bound on the differential bound
against the MILP on the same tickets, and the differential bound on a 784-500-10 subset-sum ticket.

1. Malach tickets (eps 0.1, seed 1) of targets with at least 1,000 live units at d = 3 and 4: the
   exact MILP and branch-and-bound (``exact_error(method=...)``), each with a 60 s limit and a 1%
   gap, in the same run: lower and upper bounds (l2 of the output difference, sup over the unit
   ball), status, seconds, and the ratio of their gaps (upper / lower - 1) and times.
2. The subset-sum ticket of ``benchmarks/subsetsum_construct`` (target ``random_target(784, [500, 10],
   seed=0)``, ``eta = 0.01``, seed 0, the default objective): the certified a-posteriori bound
   (docs/theory.md §3), the symbolic bounds alone, the differential bound (symbolic and norm-based
   bounds combined, docs/theory.md §10), branch-and-bound by activation splitting for 60 s; lower
   bounds from the adversarial search and ascents from data-like and coordinate starts (on the gadget
   form; the best point re-evaluated with the ticket itself); the ratio upper / lower of each.

    python -m benchmarks.verify_bab [--skip-mnist] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from stronglth import construct, random_target
from stronglth.verification import adversarial_search, certified_bound, exact_error
from stronglth.verification._common import network_pair, output_errors
from stronglth.verification.adversarial import ascend_from
from stronglth.verification.differential import bound_subdomains, pair_layers

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


def _lower_bounds(f, g, seed: int = 0) -> tuple[dict, float, np.ndarray]:
    """Lower bounds on the sup (errors at points of the sphere), on the gadget form: the adversarial
    search (256 starts from 200,000 sphere points, 150 steps), and the ascent from data-like
    (non-negative, as images are), coordinate and singular-vector starts, each the best
    ``ASCENT_STARTS`` of its candidates."""
    rng = np.random.default_rng(seed)
    found: dict = {}
    best, best_point = -1.0, None
    start = time.perf_counter()
    value, point, _ = adversarial_search(f, g, n=200_000, starts=256, steps=150, seed=seed)
    found["adversarial"] = {"value": value, "seconds": time.perf_counter() - start}
    best, best_point = value, point
    d = f.dims[0]
    for name, candidates in (
        ("data_like", rng.uniform(0.0, 1.0, (4096, d)) * (rng.uniform(size=(4096, d)) < rng.uniform(0.1, 1.0, (4096, 1)))),
        ("coordinates", np.vstack([np.eye(d), -np.eye(d)])),
        ("singular", _singular_directions(f, g)),
    ):
        start = time.perf_counter()
        candidates = candidates[np.linalg.norm(candidates, axis=1) > 0]
        errors = output_errors(f, g, candidates / np.linalg.norm(candidates, axis=1, keepdims=True))
        top = candidates[np.argsort(-errors)[:ASCENT_STARTS]]
        value, point, _ = ascend_from(f, g, top, steps=200)
        found[name] = {"value": value, "seconds": time.perf_counter() - start}
        if value > best:
            best, best_point = value, point
    return found, best, best_point


ASCENT_STARTS = 32


def _singular_directions(f, g, k: int = 10) -> np.ndarray:
    """``+-`` the top ``k`` right singular vectors of the error's linear part in gadget form
    (``e = K v + ...`` with ``K = (W_f2 (W_f1 - W_g1) + (W_f2 - W_g2) W_g1) / 2`` on ``v = (s(x), s(-x))``,
    docs/theory.md §10), as maps of ``x``: ``K = [P, Q]`` acts as ``(P - Q)/2 x + (P + Q)/2 |x|``."""
    (_, wf1, wf2), (_, wg1, wg2) = f.weights, g.weights
    K = 0.5 * (wf2 @ (wf1 - wg1) + (wf2 - wg2) @ wg1)
    d = f.dims[0]
    out = []
    for part in (K[:, :d] - K[:, d:], K[:, :d] + K[:, d:]):
        vt = np.linalg.svd(part, full_matrices=False)[2][:k]
        out += [vt, -vt]
    return np.vstack(out)


def mnist(time_limit: float) -> dict:
    print("  2. 784-500-10 subset-sum ticket (eta 0.01, seed 0, objective 'sparsest'); l2, unit ball:")
    target = random_target(784, [500, 10], seed=0)
    start = time.perf_counter()
    ticket = construct(target, method="subsetsum", eta=0.01, seed=0, jobs=2, progress=False)
    print(f"    constructed in {time.perf_counter() - start:.1f} s ({int(sum(ticket.live_widths)):,} live units)")
    layers = pair_layers(ticket, target)
    found, lower, point = _lower_bounds(layers.f, layers.g)
    f_dense, g_dense = network_pair(ticket, target)
    lower_dense = float(output_errors(f_dense, g_dense, point[None])[0])  # the same point, the ticket itself
    start = time.perf_counter()
    certified = certified_bound(ticket)
    certified_seconds = time.perf_counter() - start
    whole = -np.ones((1, 784)), np.ones((1, 784))
    start = time.perf_counter()
    symbolic = float(bound_subdomains(layers, *whole, ball=True, norm="l2", norm_bounds=False).upper[0])
    symbolic_seconds = time.perf_counter() - start
    bounds = exact_error(ticket, target, method="bounds")
    bab = exact_error(ticket, target, method="bab", time_limit=time_limit, start_point=point)
    lower = max(lower, bounds.lower, bab.lower)
    out = {
        "lower_bounds": found,
        "best_lower": lower,
        "best_lower_with_the_ticket_itself": lower_dense,
        "certified": certified,
        "certified_seconds": certified_seconds,
        "symbolic_alone": symbolic,
        "symbolic_alone_seconds": symbolic_seconds,
        "bounds": bounds.upper,
        "bounds_seconds": bounds.seconds,
        "bab_upper": bab.upper,
        "bab_lower": bab.lower,
        "bab_seconds": bab.seconds,
        "ratio_certified": certified / lower,
        "ratio_symbolic_alone": symbolic / lower,
        "ratio_bounds": bounds.upper / lower,
        "ratio_bab": bab.upper / lower,
        "bounds_over_certified": bounds.upper / certified,
    }
    for name, row in found.items():
        print(f"    lower bound, {name:<12} {row['value']:.6g}  ({row['seconds']:.1f} s, gadget form)")
    print(f"    best lower bound {lower:.6g} (the ticket itself at that point: {lower_dense:.6g})")
    ratios = out["ratio_certified"], out["ratio_symbolic_alone"]
    print(f"    certified (§3)              {certified:.6g}  upper/lower {ratios[0]:.3g}  ({certified_seconds:.1f} s)")
    print(f"    symbolic bounds alone       {symbolic:.6g}  upper/lower {ratios[1]:.3g}  ({symbolic_seconds:.1f} s)")
    print(
        f"    differential (combined)     {bounds.upper:.6g}  upper/lower {out['ratio_bounds']:.3g}  ({bounds.seconds:.1f} s;"
        f" {out['bounds_over_certified']:.3g} x certified)"
    )
    ratio = out["ratio_bab"]
    print(f"    bab (activation split)      {bab.upper:.6g}  upper/lower {ratio:.3g}  ({bab.seconds:.1f} s, {bab.status})")
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
