"""The command line's target source, shared by ``construct`` and ``edge-popup approximate``:
a file with matrices ``W_1, W_2, ...``, or a random admissible target of a family."""

from __future__ import annotations

import argparse

from stronglth.target import TargetNetwork, load_target, random_target


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("target (a file, or a random admissible target)")
    group.add_argument("--target", help=".npz with matrices W_1, W_2, ... (or a ticket file's target)")
    group.add_argument("--family", default="gaussian", help="family of the random target (default gaussian)")
    group.add_argument("--d", type=int, default=4, help="input dimension of the random target (default 4)")
    group.add_argument("--widths", type=int, nargs="+", default=[8, 8, 1], help="widths of the random target (default 8 8 1)")
    group.add_argument("--target-seed", type=int, default=0, help="seed of the random target (default 0)")


def target_from_args(args: argparse.Namespace) -> TargetNetwork:
    if args.target is not None:
        return load_target(args.target)
    return random_target(args.d, args.widths, seed=args.target_seed, family=args.family)
