"""Streaming the Malach construction at theorem width (issue: "Streaming at theorem scale").

Target d = 4, widths (8, 8, 1), eps = 0.1, delta = 0.05, rule "matching", block sizes "theorem"
with both halves kept (docs/theory.md §4: about 2.8e9 random weights). The construction with
``jobs=2`` is timed against a baseline that merely generates the random numbers the construction
reads (the same line segments, same pieces, same 2 processes, G's values made as
``draw_uniform`` makes them, from generators made once per line), in the same run: once with the
compiled (numba) filter of the scan where numba is installed (``construct``), once with the numpy
filter (``construct_numpy``, ``STRONGLTH_SCAN_KERNEL=numpy``); wall and CPU time (the process and
its workers) are both reported. Each phase runs in a fresh subprocess so that its peak memory (the
process plus its two workers) is its own.

    python -m benchmarks.malach_stream [--scale 0.1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

EPS, DELTA, D, WIDTHS, SEED = 0.1, 0.05, 4, (8, 8, 1), 0
JOBS = 2
PHASES = ("generate_raw", "generate", "construct", "construct_numpy")


def _setup(scale: float):
    from stronglth import bounds, random_target

    target = random_target(D, WIDTHS, seed=SEED)
    ks = bounds.theorem_block_sizes(target.dims, EPS, DELTA, rule="matching", negative_half_everywhere=True)
    return target, [max(1, int(k * scale)) for k in ks]


def generate_piece(piece, raw: bool = False) -> float:
    """Baseline work for one piece: draw exactly the values the scan reads, and nothing else, in
    chunks of the scan's largest size from generators made once per line.

    ``raw=False``: G's U[-1, 1] values (``2 u - 1``, as ``random_network.draw_uniform`` makes them);
    ``raw=True``: the bare 53-bit uniforms they are made from (``Generator.random``), the least
    work that produces those numbers.
    """
    from stronglth.constructions.malach.scan import CHUNK

    net = piece.network
    generators = [_generator(net.seed, piece.t, piece.j, piece.offset)]
    generators += [_generator(net.seed, piece.t + 1, o, piece.offset) for o in range(piece.w.size)]
    buffer = np.empty(CHUNK)
    checksum = 0.0
    for start in range(0, piece.length, CHUNK):
        values = buffer[: min(CHUNK, piece.length - start)]
        for g in generators:
            g.random(out=values)
            if not raw:
                values *= 2.0
                values -= 1.0
            checksum += values[0]
    return checksum


def _generator(seed: int, t: int, line: int, offset: int) -> np.random.Generator:
    from stronglth.random_network import line_bit_generator

    bit_generator = line_bit_generator(seed, t, line)
    bit_generator.advance(offset)
    return np.random.Generator(bit_generator)


def generate(pieces, jobs: int, raw: bool = False) -> int:
    """Run :func:`generate_piece` over ``pieces`` with ``jobs`` processes; the values generated."""
    from stronglth._workers import process_pool

    with process_pool(jobs) as pool:
        list(pool.map(generate_piece, pieces, [raw] * len(pieces)))
    return int(sum(p.length * (p.w.size + 1) for p in pieces))


def phase(name: str, scale: float) -> dict:
    from stronglth.constructions import construct
    from stronglth.constructions.malach.layer import _pieces
    from stronglth.constructions.malach.scan import scan_kernel
    from stronglth.random_network import RandomNetwork

    target, ks = _setup(scale)
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    if name in ("generate", "generate_raw"):
        network = RandomNetwork.for_target(target, ks, seed=SEED)
        pieces = [
            p
            for i, (w, k) in enumerate(zip(target.weights, ks, strict=True), start=1)
            for p in _pieces(network, i, w, k, 0.0, "matching")
        ]
        out = {"values": generate(pieces, JOBS, raw=name == "generate_raw")}
    else:
        ticket = construct(
            target,
            eps=EPS,
            delta=DELTA,
            seed=SEED,
            rule="matching",
            block_sizes=ks,
            negative_half_everywhere=True,
            jobs=JOBS,
            progress=False,
            on_failure="best_effort",
        )
        out = {
            "nnz": ticket.nnz,
            "certified_error": ticket.certified_error,
            "failures": ticket.meta["failures"],
            "parameters": ticket.network.parameter_count,
        }
    out["seconds"] = time.perf_counter() - start
    out["cpu_seconds"] = _cpu_seconds() - cpu_start  # this process and its (finished) workers
    if name.startswith("construct"):
        out["kernel"] = scan_kernel()  # after the clock: the workers, not this process, scan

    out["peak_bytes"] = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + JOBS * resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ) * 1024
    return out


def _cpu_seconds() -> float:
    """User + system time of this process and of its children that have ended (the pool's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the theorem block sizes (1.0 = the issue's setting)"
    )
    parser.add_argument("--phase", choices=list(PHASES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(phase(args.phase, args.scale)))
        return {}
    from benchmarks._record import write_record

    _, ks = _setup(args.scale)
    results = {}
    for name in PHASES:
        env = {k: v for k, v in os.environ.items() if k != "STRONGLTH_SCAN_KERNEL"}
        if name == "construct_numpy":
            env["STRONGLTH_SCAN_KERNEL"] = "numpy"
        load = os.getloadavg()
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.malach_stream", "--phase", name, "--scale", str(args.scale)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        results[name]["load_before"] = load
    ratio = results["construct"]["seconds"] / results["generate"]["seconds"]
    ratio_raw = results["construct"]["seconds"] / results["generate_raw"]["seconds"]
    ratios = {
        name: {
            "wall": results[name]["seconds"] / results["generate"]["seconds"],
            "cpu": results[name]["cpu_seconds"] / results["generate"]["cpu_seconds"],
        }
        for name in ("construct", "construct_numpy")
    }
    gib = 2**30
    print(f"Malach streaming, matching rule, theorem block sizes x {args.scale}: k = {ks}")
    print(f"  G: {results['construct']['parameters']:.3g} weights; values read: {results['generate']['values']:.3g}")
    print(
        f"  generate G's values only (baseline, {JOBS} processes): {results['generate']['seconds']:.2f} s,"
        f" peak {results['generate']['peak_bytes'] / gib:.2f} GiB"
    )
    print(
        f"  generate raw uniforms only (baseline, {JOBS} processes): {results['generate_raw']['seconds']:.2f} s,"
        f" peak {results['generate_raw']['peak_bytes'] / gib:.2f} GiB"
    )
    for name in ("construct", "construct_numpy"):
        r = results[name]
        print(
            f"  {name} ({r['kernel']} filter, jobs={JOBS}): {r['seconds']:.2f} s, {r['cpu_seconds']:.1f} CPU s,"
            f" peak {r['peak_bytes'] / gib:.2f} GiB; / generate G's values: {ratios[name]['wall']:.3f} in wall time,"
            f" {ratios[name]['cpu']:.3f} in CPU time (load before {r['load_before'][0]:.2f})"
        )
    print(
        f"  generate G's values: {results['generate']['cpu_seconds']:.1f} CPU s (load before"
        f" {results['generate']['load_before'][0]:.2f}); construct / raw uniforms: {ratio_raw:.2f} (wall)"
    )
    print(
        f"  ticket: nnz {results['construct']['nnz']}, certified error {results['construct']['certified_error']:.4g},"
        f" failed events {results['construct']['failures']}"
    )
    record = {
        "scale": args.scale, "block_sizes": ks, "jobs": JOBS, "ratio": ratio, "ratio_vs_raw": ratio_raw, "ratios": ratios,
        **results, "load_after": os.getloadavg(),
    }  # fmt: skip
    path = write_record("malach_stream" if args.scale == 1.0 else f"malach_stream_scale{args.scale}", record)
    print(f"  record: {path}")
    return record


if __name__ == "__main__":
    main()
