"""``stronglth verify``: a ticket's sup error four ways (sampled, adversarial, exact, certified), in one norm."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from stronglth import _validate
from stronglth.cli._table import table
from stronglth.errors import InvalidInputError
from stronglth.ticket import Ticket
from stronglth.verification import VerificationReport, verify
from stronglth.verification.exact import METHODS as EXACT_METHODS
from stronglth.verification.sampled import check_samples

__all__ = ["add_parser", "report_rows"]


def _point(p: Any) -> str:
    return "(" + ", ".join(f"{v:+.4f}" for v in p) + ")"


def report_rows(report: VerificationReport, *, samples: int) -> list[tuple[str, str]]:
    """The verification table: one row per measure that exists, each naming what it is."""
    norm = report.norm
    rows = [
        ("sampled", f"{report.sampled:.6g}  lower bound, at {_point(report.sampled_point)}  ({samples:,} sphere points)"),
        ("adversarial", f"{report.adversarial:.6g}  lower bound, at {_point(report.adversarial_point)}"),
    ]
    if report.exact_status is not None:
        assert report.exact_lower is not None and report.exact_upper is not None and report.exact_point is not None
        bounds = f"{report.exact_lower:.6g} <= sup <= {report.exact_upper:.6g}"
        if report.exact_status == "exact":
            text = f"{report.exact_upper:.6g}  exact ({report.exact_method})"
        elif report.exact_status == "within_gap":
            text = f"{bounds}  within the gap ({report.exact_method})"
        else:
            text = f"inconclusive ({report.exact_method}): only {bounds}"
        rows.append(("exact", f"{text}, lower bound at {_point(report.exact_point)}"))
    if report.certified is None:
        rows.append(("certified", "n/a (not a construction ticket, or not against its own target)"))
    else:
        rows.append(("certified", f"{report.certified:.6g}  upper bound (l2, docs/theory.md §3)"))
    lowers, uppers = ", ".join(report.lower_bounds), ", ".join(report.upper_bounds) or "none computed"
    chain = f"sampled <= adversarial, and every lower bound ({lowers}) <= every upper bound ({uppers})"
    rows.append(("nested", f"yes: {chain}" if report.nested else f"NO: {chain} fails: a bug, please report it"))
    rows.append(("norm", f"{norm} of the output difference, sup over the unit ball"))
    return rows


def _cmd_verify(args: argparse.Namespace) -> int:
    check_samples(args.samples, "--samples")
    _validate.seed(args.seed, "--seed")
    _validate.positive_float(args.time_limit, "--time-limit")
    ticket = Ticket.load(args.ticket)
    if ticket.target is None:
        raise InvalidInputError(f"{args.ticket} stores no target to verify against")
    start = time.perf_counter()
    exact = args.exact or args.method is not None
    method = "auto" if args.method is None else args.method
    report = verify(
        ticket, norm=args.norm, exact=exact, samples=args.samples, seed=args.seed, time_limit=args.time_limit, method=method
    )
    seconds = time.perf_counter() - start
    if args.json:
        print(json.dumps(report.to_dict() | {"ticket": args.ticket, "seconds": seconds}, allow_nan=False))
        return 0
    print(f"{args.ticket}: sup {report.norm} error over the unit ball against its target")
    print(table([*report_rows(report, samples=args.samples), ("time", f"{seconds:.2f} s")]))
    return 0


def add_parser(subparsers: Any) -> None:
    ver = subparsers.add_parser(
        "verify", help="measure a ticket's sup-norm error four ways (sampled, adversarial, exact, certified)"
    )
    ver.add_argument("ticket", help="a .npz ticket file that stores its target")
    ver.add_argument(
        "--exact",
        action="store_true",
        help="also compute the exact error (d <= 2 exactly; MILP or branch-and-bound bounds otherwise, by size)",
    )
    ver.add_argument(
        "--method",
        choices=list(EXACT_METHODS),
        default=None,
        help="the exact method (implies --exact): auto (by size, default), endpoints (d=1), circle (d=2), milp,"
        " bab (branch-and-bound), bounds (the differential upper bound alone); docs/guide.md, 'Verifying at scale'",
    )
    ver.add_argument(
        "--json", action="store_true", help="print one JSON object (strict JSON: null, never Infinity) instead of the table"
    )
    ver.add_argument(
        "--norm", default="l2", choices=["l2", "linf"], help="norm of the output difference (default l2, what certified bounds)"
    )
    ver.add_argument("--samples", type=int, default=100_000, help="sphere points for the sampled error (default 100000)")
    ver.add_argument("--seed", type=int, default=0, help="seed of the sampled points (default 0)")
    ver.add_argument("--time-limit", type=float, default=120.0, help="seconds for the exact method (default 120)")
    ver.set_defaults(run=_cmd_verify)
