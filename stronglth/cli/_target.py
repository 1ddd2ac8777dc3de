"""The command line's target source, shared by ``construct`` and ``edge-popup approximate``:
a file with matrices ``W_1, W_2, ...``, or a random admissible target of a family, with a ReLU or
(``--negative-slope A``) a leaky ReLU ``max(t, A t)`` (docs/theory.md §14.6)."""

from __future__ import annotations

import argparse

from stronglth import _validate
from stronglth._io import check_input_file
from stronglth.errors import InvalidInputError
from stronglth.target import TargetNetwork, load_target, random_target


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("target (a file, or a random admissible target)")
    group.add_argument("--target", help=".npz with matrices W_1, W_2, ... (or a ticket file's target)")
    group.add_argument("--family", default="gaussian", help="family of the random target (default gaussian)")
    group.add_argument("--d", type=int, default=4, help="input dimension of the random target (default 4)")
    group.add_argument("--widths", type=int, nargs="+", default=[8, 8, 1], help="widths of the random target (default 8 8 1)")
    group.add_argument("--target-seed", type=int, default=0, help="seed of the random target (default 0)")
    group.add_argument(
        "--negative-slope",
        type=float,
        default=None,
        metavar="A",
        help="the random target's activation: leaky ReLU max(t, A t), 0 <= A < 1 (default 0: the ReLU;"
        " a --target file stores its own)",
    )


def check_target_args(args: argparse.Namespace) -> None:
    """Refuse (:class:`~stronglth.errors.InvalidInputError`, naming the option) a missing or unreadable
    ``--target`` file, or out-of-range ``--d``, ``--widths``, ``--target-seed``, ``--negative-slope``
    (or ``--negative-slope`` with a ``--target`` file, whose slope is the file's); nothing is computed."""
    if args.target is not None:
        if args.negative_slope is not None:
            raise InvalidInputError(
                "--negative-slope sets the random target's activation; a --target file stores its own"
                " (key negative_slope, absent: the ReLU)"
            )
        check_input_file(args.target, what="target file")
        return
    _validate.positive_int(args.d, "--d")
    for width in args.widths:
        _validate.positive_int(width, "--widths")
    _validate.seed(args.target_seed, "--target-seed")
    if args.negative_slope is not None:
        _validate.negative_slope(args.negative_slope, "--negative-slope")


def target_from_args(args: argparse.Namespace) -> TargetNetwork:
    """The target the options name (checked first with :func:`check_target_args`)."""
    check_target_args(args)
    if args.target is not None:
        return load_target(args.target)
    slope = 0.0 if args.negative_slope is None else args.negative_slope
    return random_target(args.d, args.widths, seed=args.target_seed, family=args.family, negative_slope=slope)
