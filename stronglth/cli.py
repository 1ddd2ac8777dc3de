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


from stronglth._cli_target import add_target_arguments, target_from_args
from stronglth._version import __version__
from stronglth.errors import InvalidInputError, StrongLTHError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2 (argparse prints usage too)
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _table(rows: Sequence[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)


def ticket_table(ticket, *, seconds: float, samples: int = 100_000) -> str:
    """The short table printed after a construction: G, the ticket, its errors, the time."""
    from stronglth.verify import sampled_error

    net = ticket.network
    sampled, _ = sampled_error(ticket, ticket.target, n=samples, seed=0)
    eps = ticket.meta.get("eps")
    rows = [
        ("method", f"{ticket.meta.get('method')} (rule {ticket.meta.get('rule')})" if ticket.meta.get("rule") else str(ticket.meta.get("method"))),
        ("target dims", " x ".join(str(n) for n in ticket.target.dims)),
        ("block sizes k_i", ", ".join(f"{k:,}" for k in ticket.meta.get("block_sizes", []))),
        ("G widths", " x ".join(f"{n:,}" for n in net.dims)),
        ("G parameters", f"{net.parameter_count:,} (generated on the fly, never stored)"),
        ("ticket nnz", f"{ticket.nnz:,} (density {ticket.density:.3g})"),
        ("certified error", f"{ticket.certified_error:.4g}" + (f"  (eps = {eps:g})" if eps is not None else "")),
        ("sampled error", f"{sampled:.4g}  (max over {samples:,} points of the unit sphere)"),
        ("failed events", str(ticket.meta.get("failures", 0))),
        ("time", f"{seconds:.2f} s"),
    ]
    return _table(rows)


# -- commands ------------------------------------------------------------------------------


def _parse_block_sizes(text: str):
    if text in ("theorem", "instance", "auto"):
        return text
    try:
        return [int(k) for k in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"block sizes must be 'theorem', 'instance' or integers like 100,200,50; got {text!r}") from None


def _cmd_construct(args: argparse.Namespace) -> int:
    from stronglth.construct import construct
    target = target_from_args(args)
    if args.out is not None and not args.out.endswith(".npz"):
        raise InvalidInputError(f"--out must name a .npz file, got {args.out!r}")
    options = dict(
        delta=args.delta, seed=args.seed, negative_half_everywhere=args.negative_half_everywhere,
        on_failure=args.on_failure, jobs=args.jobs, progress=None if not args.quiet else False,
    )
    if args.method == "malach":
        if args.eta is not None:
            raise InvalidInputError("--eta is for --method subsetsum; the Malach construction derives eta_i from --eps")
        options.update(eps=args.eps, rule=args.rule, block_sizes=args.block_sizes or "theorem")
    else:
        if args.rule != "best":
            raise InvalidInputError("--rule is for --method malach")
        options.update(eps=args.eps, eta=args.eta, block_sizes=args.block_sizes or "auto")
    start = time.perf_counter()
    ticket = construct(target, method=args.method, **options)
    seconds = time.perf_counter() - start
    print(ticket_table(ticket, seconds=seconds, samples=args.samples))
    if args.out is not None:
        print(f"  written to {ticket.save(args.out)}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """The main job on a built-in default (see stronglth.demo)."""
    from stronglth.demo import run_demo

    run_demo(seed=args.seed, jobs=args.jobs)
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


def _cmd_verify(args: argparse.Namespace) -> int:
    import json

    from stronglth.ticket import Ticket
    from stronglth.verify import verify

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
    rows.append(("nested", "yes: sampled <= adversarial <= exact <= certified" if report.nested else "NO: the measures do not nest"))
    rows.append(("time", f"{seconds:.2f} s"))
    print(f"{args.ticket}: sup-norm error over the unit ball against its target")
    print(_table(rows))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stronglth", description="The strong lottery ticket hypothesis, executable.")
    parser.add_argument("--version", action="version", version=f"stronglth {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = sub.add_parser("demo", help="the main job on a built-in default target (under a minute)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the target and of G (default 0)")
    demo.add_argument("--jobs", type=int, default=None, help="processes scanning G (default: 2, or 1 on one core)")
    demo.set_defaults(run=_cmd_demo)

    con = sub.add_parser("construct", help="construct a ticket approximating a target inside a seeded random network")
    add_target_arguments(con)
    con.add_argument("--method", default="malach", choices=["malach", "subsetsum"], help="construction method (default malach)")
    con.add_argument("--eps", type=float, help="sup-norm error to reach over the unit ball")
    con.add_argument("--eta", type=float, help="subsetsum only: the per-weight tolerance, instead of deriving it from --eps")
    con.add_argument("--delta", type=float, default=0.05, help="failure probability the block sizes allow (default 0.05)")
    con.add_argument("--seed", type=int, default=0, help="seed of the random network G (default 0)")
    con.add_argument("--block-sizes", type=_parse_block_sizes, default=None,
                     help="malach: theorem | instance | k1,k2,... (default theorem); subsetsum: auto | k1,k2,... (default auto)")
    con.add_argument("--rule", default="best", choices=["best", "matching"], help="gadget rule (default best)")
    con.add_argument("--negative-half-everywhere", action="store_true", help="keep the N half in every layer, not only the first")
    con.add_argument("--on-failure", default="raise", choices=["raise", "best_effort"], help="when a block has no acceptable unit")
    con.add_argument("--jobs", type=int, default=1, help="processes scanning G in parallel (default 1)")
    con.add_argument("--samples", type=int, default=100_000, help="sphere points for the sampled error (default 100000)")
    con.add_argument("--out", help="write the ticket here (.npz, format stronglth-ticket/1)")
    con.add_argument("--quiet", action="store_true", help="no progress bar")
    con.set_defaults(run=_cmd_construct)

    ver = sub.add_parser("verify", help="measure a ticket's sup-norm error four ways (sampled, adversarial, exact, certified)")
    ver.add_argument("ticket", help="a .npz ticket file that stores its target")
    ver.add_argument("--exact", action="store_true", help="also compute the exact error (d <= 2 exactly; MILP bounds otherwise)")
    ver.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ver.add_argument("--samples", type=int, default=100_000, help="sphere points for the sampled error (default 100000)")
    ver.add_argument("--seed", type=int, default=0, help="seed of the sampled points (default 0)")
    ver.add_argument("--time-limit", type=float, default=120.0, help="seconds for the exact method (default 120)")
    ver.set_defaults(run=_cmd_verify)

    audit = sub.add_parser("audit", help="load a ticket file and check that it is a true subnetwork of G")
    audit.add_argument("ticket", help="a .npz ticket file (format stronglth-ticket/1)")
    audit.set_defaults(run=_cmd_audit)

    from stronglth.sweep_cli import add_parser as add_sweep_parsers

    add_sweep_parsers(sub)  # `sweep {width-vs-eps,failure-prob,depth,looseness,merge}` and `plot`

    from stronglth.baselines.cli import add_parser as add_edge_popup_parser

    add_edge_popup_parser(sub)  # `edge-popup {classify,approximate}`
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
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
