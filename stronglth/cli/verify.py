"""``stronglth verify``: a ticket's sup error four ways (sampled, adversarial, exact, certified), in one
norm, over one domain (the unit ball or the box ``[-1, 1]^d``), and its errors on a data set
(``--data FILE --labels FILE``: ``.npy`` files, or ``FILE.npz:NAME``, read with ``allow_pickle=False``)."""

from __future__ import annotations

import argparse
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from stronglth import _validate
from stronglth.cli._table import table
from stronglth.errors import InvalidInputError
from stronglth.ticket import Ticket
from stronglth.verification import DOMAINS, VerificationReport, verify
from stronglth.verification.data import DataErrors
from stronglth.verification.exact import METHODS as EXACT_METHODS
from stronglth.verification.sampled import check_samples

__all__ = ["add_parser", "report_rows", "data_rows", "load_array"]

_DOMAIN_WORDS = {"ball": "the unit ball", "box": "the box [-1, 1]^d"}


def load_array(source: str, what: str) -> np.ndarray:
    """The array named by ``source``: ``PATH.npy`` (memory-mapped, so a large file is read block by
    block), or ``PATH.npz:NAME`` (``:NAME`` may be left out when the archive holds one array); never
    unpickled (``allow_pickle=False``). ``what`` names the option in messages."""
    path_text, name = source, None
    head, sep, tail = source.rpartition(":")
    if sep and head.lower().endswith(".npz"):
        path_text, name = head, tail
    path = Path(path_text)
    if not path.is_file():
        raise InvalidInputError(f"{what} {source}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            if name is not None:
                raise InvalidInputError(f"{what} {source}: a .npy file holds one array (no :NAME)")
            return np.load(path, mmap_mode="r", allow_pickle=False)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                names = list(archive.files)
                if name is None:
                    if len(names) != 1:
                        raise InvalidInputError(f"{what} {source}: the archive holds {names}; name one as {path_text}:NAME")
                    name = names[0]
                if name not in names:
                    raise InvalidInputError(f"{what} {source}: no array {name!r} in the archive (it holds {names})")
                return archive[name]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InvalidInputError(f"{what} {source}: not a readable array file without pickled objects ({exc})") from None
    raise InvalidInputError(f"{what} {source}: expected a .npy file or PATH.npz[:NAME], got a {suffix or 'file without suffix'}")


def _point(p: Any) -> str:
    return "(" + ", ".join(f"{v:+.4f}" for v in p) + ")"


def data_rows(data: DataErrors) -> list[tuple[str, str]]:
    """The rows of the errors on data: each says it is a max or a mean over the data's rows (exact
    there), not a bound over the ball or the box."""
    outside = f"{data.rows_outside_ball:,} of {data.rows:,} rows outside the unit ball, {data.rows_outside_box:,} outside the box"
    rows = [
        (
            "data max",
            f"{data.max_error:.6g}  max {data.norm} error over the {data.rows:,} data rows (at row {data.max_row}),"
            " exact on the data, not a bound over the ball",
        ),
        ("data mean", f"{data.mean_error:.6g}  mean {data.norm} error over the data rows"),
        ("data rows", outside),
    ]
    if data.labelled:
        assert data.ticket_accuracy is not None and data.target_accuracy is not None and data.agreement is not None
        rows += [
            ("accuracy", f"ticket {data.ticket_accuracy:.4%}, target {data.target_accuracy:.4%} (argmax of the outputs)"),
            ("agreement", f"{data.agreement:.4%} of the rows: ticket and target predict the same class"),
        ]
    return rows


def report_rows(report: VerificationReport, *, samples: int) -> list[tuple[str, str]]:
    """The verification table: one row per measure that exists, each naming what it is and its domain."""
    norm = report.norm
    where = _DOMAIN_WORDS[report.domain]
    rows = [
        ("sampled", f"{report.sampled:.6g}  lower bound, at {_point(report.sampled_point)}  ({samples:,} points of {where})"),
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
        rows.append(("certified", f"n/a ({report.certified_note or 'not a construction ticket, or not against its own target'})"))
    else:
        rows.append(("certified", f"{report.certified:.6g}  {report.certified_note or 'upper bound (l2, docs/theory.md §3)'}"))
    lowers, uppers = ", ".join(report.lower_bounds), ", ".join(report.upper_bounds) or "none computed"
    chain = f"sampled <= adversarial, and every lower bound ({lowers}) <= every upper bound ({uppers})"
    rows.append(("nested", f"yes: {chain}" if report.nested else f"NO: {chain} fails: a bug, please report it"))
    rows.append(("norm", f"{norm} of the output difference, sup over {where}"))
    if report.data is not None:
        rows += data_rows(report.data)
    return rows


def _cmd_verify(args: argparse.Namespace) -> int:
    check_samples(args.samples, "--samples")
    _validate.seed(args.seed, "--seed")
    _validate.positive_float(args.time_limit, "--time-limit")
    if args.labels is not None and args.data is None:
        raise InvalidInputError("--labels needs --data: the labels are those of the rows of a data set")
    ticket = Ticket.load(args.ticket)
    if ticket.target is None:
        raise InvalidInputError(f"{args.ticket} stores no target to verify against")
    data = None if args.data is None else load_array(args.data, "--data")
    labels = None if args.labels is None else load_array(args.labels, "--labels")
    start = time.perf_counter()
    exact = args.exact or args.method is not None
    method = "auto" if args.method is None else args.method
    report = verify(
        ticket,
        norm=args.norm,
        exact=exact,
        samples=args.samples,
        seed=args.seed,
        time_limit=args.time_limit,
        method=method,
        domain=args.domain,
        data=data,
        labels=labels,
    )
    seconds = time.perf_counter() - start
    if args.json:
        print(json.dumps(report.to_dict() | {"ticket": args.ticket, "seconds": seconds}, allow_nan=False))
        return 0
    print(f"{args.ticket}: sup {report.norm} error over {_DOMAIN_WORDS[report.domain]} against its target")
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
    ver.add_argument(
        "--domain",
        default="ball",
        choices=list(DOMAINS),
        help="the domain of the sup: ball (the unit l2 ball, default) or box ([-1, 1]^d); every measure is over it",
    )
    ver.add_argument(
        "--data",
        default=None,
        metavar="FILE",
        help="also the max and mean error on the rows of a data set (rows, d): a .npy file or FILE.npz:NAME"
        " (exact on the data, not a bound over the domain)",
    )
    ver.add_argument(
        "--labels",
        default=None,
        metavar="FILE",
        help="with --data: integer class labels, one per row (.npy or FILE.npz:NAME): accuracy of ticket and target"
        " (argmax of the outputs) and the agreement of their predictions",
    )
    ver.add_argument("--samples", type=int, default=100_000, help="points of the domain for the sampled error (default 100000)")
    ver.add_argument("--seed", type=int, default=0, help="seed of the sampled points (default 0)")
    ver.add_argument("--time-limit", type=float, default=120.0, help="seconds for the exact method (default 120)")
    ver.set_defaults(run=_cmd_verify)
