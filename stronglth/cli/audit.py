"""``stronglth audit``: load a ticket file and check that it is a true subnetwork of G."""

from __future__ import annotations

import argparse
import time
from typing import Any

from stronglth.cli._table import activation_row, table
from stronglth.gadget_form import recomputed_certified_error
from stronglth.ticket import Ticket

__all__ = ["add_parser"]


def _cmd_audit(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    ticket = Ticket.load(args.ticket)  # load audits: every kept value regenerated from G
    elapsed = time.perf_counter() - start
    net = ticket.network
    recomputed = recomputed_certified_error(ticket)
    if recomputed is not None:  # the load has checked that the stored value is not smaller
        stored = "" if ticket.certified_error is None else f"; stored {ticket.certified_error:.6g}"
        cert = f"{recomputed:.6g}  upper bound (l2), recomputed from the kept weights{stored}"
    elif ticket.certified_error is not None:
        cert = f"{ticket.certified_error:.6g}  as stored (not in the gadget form of the constructions: not recomputable)"
    else:
        cert = "none"
    print(f"{args.ticket}: a true subnetwork of G (every kept value is G's, bit for bit)")
    print(
        table(
            [
                ("G widths", " x ".join(str(n) for n in net.dims)),
                ("G parameters", f"{net.parameter_count:,}"),
                ("seed", str(net.seed)),
                *activation_row(net.negative_slope, 0.0 if ticket.target is None else ticket.target.negative_slope),
                ("ticket nnz", f"{ticket.nnz:,} (density {ticket.density:.3g})"),
                ("live widths", " x ".join(str(n) for n in ticket.live_widths)),
                ("method", str(ticket.meta.get("method"))),
                ("certified error", cert),
                ("audit time", f"{elapsed:.2f} s"),
            ]
        )
    )
    return 0


def add_parser(subparsers: Any) -> None:
    audit = subparsers.add_parser("audit", help="load a ticket file and check that it is a true subnetwork of G")
    audit.add_argument("ticket", help="a .npz ticket file (format stronglth-ticket/1)")
    audit.set_defaults(run=_cmd_audit)
