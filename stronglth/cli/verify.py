"""``stronglth verify``: a ticket's sup-norm error four ways (sampled, adversarial, exact, certified)."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from stronglth.cli._table import table
from stronglth.errors import InvalidInputError
from stronglth.ticket import Ticket
from stronglth.verification import verify

__all__ = ["add_parser"]


def _cmd_verify(args: argparse.Namespace) -> int:
    ticket = Ticket.load(args.ticket)
    if ticket.target is None:
        raise InvalidInputError(f"{args.ticket} stores no target to verify against")
    start = time.perf_counter()
    report = verify(ticket, exact=args.exact, samples=args.samples, seed=args.seed, time_limit=args.time_limit)
    seconds = time.perf_counter() - start
    if args.json:
        print(json.dumps(report.to_dict() | {"ticket": args.ticket, "seconds": seconds}))
        return 0

    def point(p) -> str:
        return "(" + ", ".join(f"{v:+.4f}" for v in p) + ")"

    rows = [
        ("sampled", f"{report.sampled:.6g}  at {point(report.sampled_point)}  ({args.samples:,} sphere points)"),
        ("adversarial", f"{report.adversarial:.6g}  at {point(report.adversarial_point)}"),
    ]
    if report.exact is not None:
        bound = "" if report.exact_upper == report.exact else f" <= sup <= {report.exact_upper:.6g}"
        rows.append(("exact", f"{report.exact:.6g}{bound}  [{report.exact_status}]  at {point(report.exact_point)}"))
    rows.append(("certified", "n/a (not a construction ticket)" if report.certified is None else f"{report.certified:.6g}"))
    rows.append(
        ("nested", "yes: sampled <= adversarial <= exact <= certified" if report.nested else "NO: the measures do not nest")
    )
    rows.append(("time", f"{seconds:.2f} s"))
    print(f"{args.ticket}: sup-norm error over the unit ball against its target")
    print(table(rows))
    return 0


def add_parser(subparsers: Any) -> None:
    ver = subparsers.add_parser(
        "verify", help="measure a ticket's sup-norm error four ways (sampled, adversarial, exact, certified)"
    )
    ver.add_argument("ticket", help="a .npz ticket file that stores its target")
    ver.add_argument("--exact", action="store_true", help="also compute the exact error (d <= 2 exactly; MILP bounds otherwise)")
    ver.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ver.add_argument("--samples", type=int, default=100_000, help="sphere points for the sampled error (default 100000)")
    ver.add_argument("--seed", type=int, default=0, help="seed of the sampled points (default 0)")
    ver.add_argument("--time-limit", type=float, default=120.0, help="seconds for the exact method (default 120)")
    ver.set_defaults(run=_cmd_verify)
