"""The ``stronglth`` command.

Bad input prints one line, ``stronglth: error: ...``, on stderr and exits 2: no traceback and no
partial output file (files are written atomically).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import NoReturn


from stronglth._version import __version__
from stronglth.errors import StrongLTHError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2 (argparse prints usage too)
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _table(rows: Sequence[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)


# -- commands ------------------------------------------------------------------------------


def _cmd_demo(args: argparse.Namespace) -> int:
    """The main job on a built-in default (see stronglth.demo)."""
    from stronglth.demo import run_demo

    run_demo(seed=args.seed)
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from stronglth.ticket import Ticket

    start = time.perf_counter()
    ticket = Ticket.load(args.ticket)  # load audits: every kept value regenerated from G
    elapsed = time.perf_counter() - start
    net = ticket.network
    cert = "none" if ticket.certified_error is None else f"{ticket.certified_error:.6g}"
    print(f"{args.ticket}: a true subnetwork of G (every kept value is G's, bit for bit)")
    print(
        _table(
            [
                ("G widths", " x ".join(str(n) for n in net.dims)),
                ("G parameters", f"{net.parameter_count:,}"),
                ("seed", str(net.seed)),
                ("ticket nnz", f"{ticket.nnz:,} (density {ticket.density:.3g})"),
                ("live widths", " x ".join(str(n) for n in ticket.live_widths)),
                ("method", str(ticket.meta.get("method"))),
                ("certified error", cert),
                ("audit time", f"{elapsed:.2f} s"),
            ]
        )
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stronglth", description="The strong lottery ticket hypothesis, executable.")
    parser.add_argument("--version", action="version", version=f"stronglth {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = sub.add_parser("demo", help="the main job on a built-in default target (under a minute)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the target and of G (default 0)")
    demo.set_defaults(run=_cmd_demo)

    audit = sub.add_parser("audit", help="load a ticket file and check that it is a true subnetwork of G")
    audit.add_argument("ticket", help="a .npz ticket file (format stronglth-ticket/1)")
    audit.set_defaults(run=_cmd_audit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except StrongLTHError as exc:
        print(f"stronglth: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stronglth: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
