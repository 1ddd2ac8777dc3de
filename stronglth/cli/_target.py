"""The command line's target source, shared by ``construct`` and ``edge-popup approximate``:
a file with matrices ``W_1, W_2, ...``, or a random admissible target of a family."""

from __future__ import annotations

import argparse

from stronglth import _validate
from stronglth._io import check_input_file
from stronglth.target import TargetNetwork, load_target, random_target


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("target (a file, or a random admissible target)")
    group.add_argument("--target", help=".npz with matrices W_1, W_2, ... (or a ticket file's target)")
    group.add_argument("--family", default="gaussian", help="family of the random target (default gaussian)")
    group.add_argument("--d", type=int, default=4, help="input dimension of the random target (default 4)")
    group.add_argument("--widths", type=int, nargs="+", default=[8, 8, 1], help="widths of the random target (default 8 8 1)")
    group.add_argument("--target-seed", type=int, default=0, help="seed of the random target (default 0)")


def check_target_args(args: argparse.Namespace) -> None:
    """Refuse (:class:`~stronglth.errors.InvalidInputError`, naming the option) a missing or unreadable
    ``--target`` file, or out-of-range ``--d``, ``--widths``, ``--target-seed``; nothing is computed."""
    if args.target is not None:
        check_input_file(args.target, what="target file")
        return
    _validate.positive_int(args.d, "--d")
    for width in args.widths:
        _validate.positive_int(width, "--widths")
    _validate.seed(args.target_seed, "--target-seed")


def target_from_args(args: argparse.Namespace) -> TargetNetwork:
    """The target the options name (checked first with :func:`check_target_args`)."""
    check_target_args(args)
    if args.target is not None:
        return load_target(args.target)
    return random_target(args.d, args.widths, seed=args.target_seed, family=args.family)
