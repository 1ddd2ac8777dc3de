"""Verification throughput (issue: "Verification: sup-norm error four ways").

1. Sampled and adversarial error of a Malach ticket at theorem width (target 4-8-8-1, eps 0.1,
   rule "best": G of 1.17e6 weights), evaluated through the compacted ticket (what
   ``stronglth.verification`` does) against evaluating the masked G it came from (dense matrices of G's
   shapes with the unkept entries zeroed), the same points, in the same run: points per second
   and the ratio.
2. Exact sup error by MILP against network size: construction tickets of targets of growing size
   in d = 3 and 4; seconds, status and the relative gap between the bounds.

    python -m benchmarks.verify_throughput
"""

from __future__ import annotations

import time

import numpy as np

from stronglth import ReLUNetwork, construct, random_target
from stronglth.verification import adversarial_error, sampled_error, verify


def masked_g(ticket) -> ReLUNetwork:
    """G itself with a 0/1 mask: every matrix dense at G's full shape."""
    weights = []
    for t in range(1, ticket.network.depth + 1):
        dense = np.zeros(ticket.network.shapes[t - 1])
        kept = ticket.kept(t)
        dense[kept.rows, kept.cols] = kept.vals
        weights.append(dense)
    return ReLUNetwork(weights)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main(argv=None) -> dict:
    from benchmarks._record import write_record

    target = random_target(4, [8, 8, 1], seed=0)
    ticket = construct(target, eps=0.1, seed=0, negative_half_everywhere=True)
    compact, dense = ticket.compact(), masked_g(ticket)
    n = 20_000
    (s_compact, _), t_compact = timed(sampled_error, compact, target, n=n, seed=1)
    (s_dense, _), t_dense = timed(sampled_error, dense, target, n=n, seed=1, batch=2_000)
    assert abs(s_compact - s_dense) <= 1e-12, (s_compact, s_dense)
    (a_compact, _), ta_compact = timed(adversarial_error, compact, target, n=2_000, starts=16, steps=100, seed=1)
    (a_dense, _), ta_dense = timed(adversarial_error, dense, target, n=2_000, starts=16, steps=100, seed=1)
    print(f"Ticket inside G of {ticket.network.parameter_count:,} weights; compacted: {compact.dims}")
    print(
        f"  sampled, {n:,} points:   compacted {n / t_compact:,.0f} points/s, masked G {n / t_dense:,.0f} points/s,"
        f" ratio {t_dense / t_compact:,.0f}x (errors equal: {s_compact:.6g})"
    )
    print(
        f"  adversarial (16 starts x 100 steps): compacted {ta_compact:.3f} s, masked G {ta_dense:.2f} s,"
        f" ratio {ta_dense / ta_compact:,.0f}x (values {a_compact:.6g} / {a_dense:.6g})"
    )
    rows = []
    print("  exact (MILP on the gadget form, 1% gap, limit 120 s):")
    print(f"    {'d':>2} {'target widths':<14} {'live units':>10} {'seconds':>8}  status       gap")
    for d, widths in ((3, [4, 1]), (3, [8, 1]), (3, [8, 8, 1]), (4, [4, 1]), (4, [8, 1]), (4, [16, 1]), (4, [8, 8, 1])):
        t = random_target(d, widths, seed=1)
        tk = construct(t, eps=0.1, seed=1)
        report, seconds = timed(verify, tk, exact=True, samples=20_000, time_limit=120)
        gap = report.exact_upper / report.exact - 1 if report.exact else float("nan")
        rows.append(
            {
                "d": d,
                "widths": widths,
                "live_units": int(sum(tk.live_widths)),
                "seconds": seconds,
                "status": report.exact_status,
                "gap": gap,
                "exact": report.exact,
                "upper": report.exact_upper,
            }
        )
        print(f"    {d:>2} {str(widths):<14} {sum(tk.live_widths):>10} {seconds:>8.1f}  {report.exact_status:<12} {gap:.2%}")
    record = {
        "sampled": {"points": n, "compact_seconds": t_compact, "masked_g_seconds": t_dense, "ratio": t_dense / t_compact},
        "adversarial": {"compact_seconds": ta_compact, "masked_g_seconds": ta_dense, "ratio": ta_dense / ta_compact},
        "exact": rows,
    }
    print(f"  record: {write_record('verify_throughput', record)}")
    return record


if __name__ == "__main__":
    main()
