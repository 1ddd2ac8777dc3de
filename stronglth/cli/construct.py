"""``stronglth construct``: construct a ticket approximating a target inside a seeded random network."""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from typing import Any

from stronglth._io import check_output_path
from stronglth._workers import resolve_jobs
from stronglth.cli._executor import add_executor_arguments, executor_from_args
from stronglth.cli._table import ticket_table
from stronglth.cli._target import add_target_arguments, target_from_args
from stronglth.constructions import METHODS, construct, plan
from stronglth.constructions.planning import DEFAULT_MAX_VALUES, check_plan
from stronglth.errors import InvalidInputError
from stronglth.verification import verify

__all__ = ["add_parser"]


def _parse_block_sizes(text: str):
    if text in ("theorem", "instance", "auto"):
        return text
    try:
        return [int(k) for k in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"block sizes must be 'theorem', 'instance' or integers like 100,200,50; got {text!r}"
        ) from None


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = dict(
        delta=args.delta,
        seed=args.seed,
        on_failure=args.on_failure,
        max_values=args.max_values,
        rescale=args.rescale,
    )
    subset_sum_only = {
        "--eta": args.eta, "--objective": args.objective, "--subset-size": args.subset_size, "--max-size": args.max_size,
    }  # fmt: skip
    if args.method == "malach":
        for flag, value in subset_sum_only.items():
            if value is not None:
                raise InvalidInputError(f"{flag} is for --method subsetsum (the Malach construction derives eta_i from --eps)")
        options.update(eps=args.eps, rule=args.rule, block_sizes=args.block_sizes or "theorem")
        options.update(selection=args.selection, executor=executor_from_args(args))
    else:
        if args.rule != "best":
            raise InvalidInputError("--rule is for --method malach")
        if args.selection != "best" or args.executor is not None or args.scheduler is not None:
            raise InvalidInputError("--selection, --executor and --scheduler are for --method malach")
    if args.method == "subsetsum":
        options.update(eps=args.eps, eta=args.eta, block_sizes=args.block_sizes or "auto")
        options.update(objective=args.objective or "sparsest", subset_size=args.subset_size, max_size=args.max_size)
    elif args.method != "malach":  # the later constructions: the flags their function takes (docs/theory.md §13-14)
        accepted = inspect.signature(METHODS[args.method]).parameters
        given = {"--eta": args.eta, "--subset-size": args.subset_size, "--max-size": args.max_size}
        given["--objective"] = args.objective
        for flag, value in given.items():
            if value is not None and flag[2:].replace("-", "_") not in accepted:
                raise InvalidInputError(f"{flag} is not an option of --method {args.method}")
        options.update(eps=args.eps)
        if args.block_sizes is not None:
            options.update(block_sizes=args.block_sizes)
        if args.objective is not None:
            options.update(objective=args.objective)
    if args.method in ("malach", "subsetsum"):
        options.update(
            negative_half_everywhere=args.negative_half_everywhere,
            jobs=resolve_jobs(args.jobs),  # once: the cap's message is printed once
            progress=None if not args.quiet else False,
        )
    elif args.negative_half_everywhere or args.jobs != 1:
        raise InvalidInputError(f"--negative-half-everywhere and --jobs are not options of --method {args.method}")
    return options


def _cmd_construct(args: argparse.Namespace) -> int:
    if args.out is not None:
        check_output_path(args.out, kind="file", suffix=".npz")  # before any work, not after it
    if not args.samples >= 1:
        raise InvalidInputError(f"--samples must be a positive integer, got {args.samples}")
    target = target_from_args(args)
    options = _options(args)
    the_plan = plan(target, method=args.method, **options)
    if args.dry_run:
        print(the_plan.line())
        return 0
    check_plan(the_plan, args.max_values)  # the refusal carries the plan: one line
    # what is about to happen, and its size, before it starts: with the results on stdout, or (--quiet) on stderr
    print(the_plan.line(), file=sys.stderr if args.quiet else sys.stdout, flush=True)
    start = time.perf_counter()
    ticket = construct(target, method=args.method, **options)
    seconds = time.perf_counter() - start
    report = verify(ticket, samples=args.samples)
    print(ticket_table(ticket, seconds=seconds, report=report, samples=args.samples))
    if args.out is not None:
        print(f"  written to {ticket.save(args.out)}")
    return 0


def _max_values(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--max-values must be a number like 1e11 or inf, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"--max-values must be positive, got {text!r}")
    return value


def add_parser(subparsers: Any) -> None:
    con = subparsers.add_parser("construct", help="construct a ticket approximating a target inside a seeded random network")
    add_target_arguments(con)
    con.add_argument(
        "--method",
        default="malach",
        choices=sorted(METHODS),
        help="construction method (default malach): malach, subsetsum (Pensia et al.), orseau, burkholz (depth l + 1)",
    )
    con.add_argument("--eps", type=float, help="sup-norm error to reach over the unit ball")
    con.add_argument("--eta", type=float, help="subsetsum only: the per-weight tolerance, instead of deriving it from --eps")
    con.add_argument(
        "--rescale",
        action="store_true",
        help="for a target outside the assumptions (e.g. trained): construct for F/c at eps/c, output times c (c printed)",
    )
    con.add_argument("--delta", type=float, default=0.05, help="failure probability the block sizes allow (default 0.05)")
    con.add_argument("--seed", type=int, default=0, help="seed of the random network G (default 0)")
    con.add_argument(
        "--block-sizes",
        type=_parse_block_sizes,
        default=None,
        help="malach: theorem | instance | k1,k2,... (default theorem); subsetsum: auto | k1,k2,... (default auto)",
    )
    con.add_argument(
        "--objective",
        choices=["sparsest", "least_error"],
        help="subsetsum: which subset serves a weight: the fewest units within eta (default) or the least error",
    )
    con.add_argument("--subset-size", type=int, help="subsetsum: every weight from exactly this many units (Natale et al. 2024)")
    con.add_argument("--max-size", type=int, help="subsetsum: at most this many units per weight")
    con.add_argument("--rule", default="best", choices=["best", "matching"], help="gadget rule (default best)")
    con.add_argument(
        "--selection",
        default="best",
        choices=["best", "first"],
        help="malach: the least error per event (default best), or the first acceptable unit (first: reads far less)",
    )
    con.add_argument("--negative-half-everywhere", action="store_true", help="keep the N half in every layer, not only the first")
    con.add_argument(
        "--on-failure", default="raise", choices=["raise", "best_effort"], help="when a block has no acceptable unit"
    )
    con.add_argument("--jobs", type=int, default=1, help="processes scanning G in parallel (default 1)")
    add_executor_arguments(con, "the scans of G")
    con.add_argument("--samples", type=int, default=100_000, help="sphere points for the sampled error (default 100000)")
    con.add_argument("--out", help="write the ticket here (.npz, format stronglth-ticket/1)")
    con.add_argument("--quiet", action="store_true", help="no progress bar (the one-line plan still goes to stderr)")
    con.add_argument("--dry-run", action="store_true", help="print the plan (G's size, values read, time, memory) and exit")
    con.add_argument(
        "--max-values",
        type=_max_values,
        default=DEFAULT_MAX_VALUES,
        help=f"refuse a construction that reads more values of G (default {DEFAULT_MAX_VALUES:.0e}; inf: no limit)",
    )
    con.set_defaults(run=_cmd_construct)
