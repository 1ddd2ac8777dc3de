"""``stronglth demo``: the main job on a built-in default target, in well under a minute.

A random admissible target of shape 4-8-8-1 (Malach et al.'s assumptions checked), then the
Malach construction at the width the theorem demands, with the best-product rule (about a
million random weights) and with the matching rule of the proof (about 2.7e9 random weights,
generated on the fly and never stored), each with its certified and sampled sup-norm error; the
second ticket is saved, reloaded in the file format and audited against G.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from stronglth import _validate
from stronglth._io import check_output_path
from stronglth.cli._table import ticket_table
from stronglth.constructions import construct
from stronglth.errors import InvalidInputError
from stronglth.target import random_target
from stronglth.ticket import Ticket
from stronglth.verification import verify

DEMO_D = 4
DEMO_WIDTHS = (8, 8, 1)
DEMO_EPS = 0.1
DEMO_DELTA = 0.05
DEMO_SAMPLES = 100_000


def run_demo(*, seed: int = 0, jobs: int | None = None) -> None:
    """Run the demo: ``seed`` a non-negative integer, ``jobs`` a positive one (``None``: 2, or 1 on one core)."""
    seed = _validate.seed(seed)
    jobs = min(2, os.cpu_count() or 1) if jobs is None else _validate.positive_int(jobs, "jobs")
    try:  # the ticket is saved and reloaded in a temporary directory: check there is one first
        check_output_path(tempfile.gettempdir(), kind="directory")
    except FileNotFoundError as exc:  # no usable temporary directory at all
        raise InvalidInputError(f"no writable temporary directory for the demo's ticket file ({exc})") from None
    target = random_target(DEMO_D, DEMO_WIDTHS, seed=seed, family="gaussian").check()
    print(
        f"Target F: dims {' x '.join(map(str, target.dims))}, {target.parameter_count} weights; Malach et al.'s assumptions hold:"
    )
    for n in target.layer_norms():
        print(
            f"  layer {n.layer}: ||W||_2 = {n.spectral_norm:.3f} <= 1,"
            f"  max|W| = {n.max_abs:.3f} <= 1/sqrt(fan_in) = {n.max_abs_bound:.3f}"
        )
    print(
        f"\nGoal: a subnetwork of a random U[-1,1] network G of depth {2 * target.depth} (seed {seed})"
        f" with sup error <= {DEMO_EPS}"
        f" on the unit ball, with probability >= {1 - DEMO_DELTA} over G. Every error below is the sup over the unit"
        " ball of the l2 norm of the output difference (docs/theory.md §6)."
    )
    for rule, note in (("best", "best-product rule"), ("matching", "matching rule of the proof")):
        print(f"\nMalach construction at theorem width, {note} (jobs={jobs}):")
        start = time.perf_counter()
        ticket = construct(
            target,
            eps=DEMO_EPS,
            delta=DEMO_DELTA,
            seed=seed,
            rule=rule,
            block_sizes="theorem",
            negative_half_everywhere=True,
            jobs=jobs,
        )
        seconds = time.perf_counter() - start
        report = verify(ticket, samples=DEMO_SAMPLES)
        print(ticket_table(ticket, seconds=seconds, report=report, samples=DEMO_SAMPLES))
        certified = report.certified
        assert certified is not None  # a Malach ticket always has the gadget shape the bound needs
        print(
            f"  nested: sampled <= adversarial <= certified (recomputed from the kept weights) <= eps {DEMO_EPS}:"
            f" {'yes' if report.nested and certified <= DEMO_EPS else 'NO'}"
        )
    print(f"\nSubset-sum construction (Pensia et al. 2020), block sizes 'auto', for comparison (jobs={jobs}):")
    start = time.perf_counter()
    subset = construct(
        target,
        method="subsetsum",
        eps=DEMO_EPS,
        delta=DEMO_DELTA,
        seed=seed,
        block_sizes="auto",
        negative_half_everywhere=True,
        jobs=jobs,
    )
    seconds = time.perf_counter() - start
    print(ticket_table(subset, seconds=seconds, report=verify(subset, samples=DEMO_SAMPLES), samples=DEMO_SAMPLES))
    print(
        f"  side by side: G of {subset.network.parameter_count:,} weights (subset sum) against"
        f" {ticket.network.parameter_count:,} (Malach, matching rule), a factor"
        f" {ticket.network.parameter_count / subset.network.parameter_count:,.0f} narrower"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = ticket.save(Path(tmp) / "ticket.npz")
        start = time.perf_counter()
        loaded = Ticket.load(path)  # checks the format and regenerates every kept value from G
        print(
            f"\nSaved ({path.stat().st_size:,} bytes), reloaded and audited in {time.perf_counter() - start:.2f} s:"
            f" all {loaded.nnz} kept weights are G's own, bit for bit."
        )


def _cmd_demo(args: argparse.Namespace) -> int:
    seed = _validate.seed(args.seed, "--seed")
    jobs = None if args.jobs is None else _validate.positive_int(args.jobs, "--jobs")
    run_demo(seed=seed, jobs=jobs)
    return 0


def add_parser(subparsers: Any) -> None:
    demo = subparsers.add_parser("demo", help="the main job on a built-in default target (under a minute)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the target and of G (default 0)")
    demo.add_argument("--jobs", type=int, default=None, help="processes scanning G (default: 2, or 1 on one core)")
    demo.set_defaults(run=_cmd_demo)
