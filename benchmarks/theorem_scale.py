"""The theorem at its own width on an MNIST-size network (issue: "The theorem at its own width ...").

Cases, each in a fresh subprocess so that its peak memory (the process plus its workers) is its own,
all with ``jobs=2``, ``block_sizes="theorem"``, eps = 0.1, delta = 0.05:

- ``best_best``: a 784-500-10 admissible target (``random_target(784, [500, 10], seed=0)``), best
  rule, ``selection="best"`` (reads all of the theorem's G), with the compiled (numba) filter;
- ``best_best_numpy``: the same with the numpy filter (``STRONGLTH_SCAN_KERNEL=numpy``);
- ``generate``: the baseline of ``best_best``: merely generating every value it reads (the same
  pieces, the same 2 processes; benchmarks/malach_stream.generate);
- ``best_first``: the same target and rule, ``selection="first"``;
- ``matching_first``: a 64-32-10 target, matching rule, ``selection="first"``.

Printed per case: G's parameters, values read, wall time, values/s, CPU time (of the process and
its workers: what the case cost, whatever else the machine ran), peak memory, the load average
before it; and the ratio of ``best_best`` (numba) and ``best_best_numpy`` to their baseline (target
<= 1.2), in wall and CPU time. Every case but ``best_best_numpy`` uses numba where it is installed.
Targets on 2 cores: best/best <= 10 min, best/first <= 1 min, matching/first <= 10 min, every
peak < 2 GiB.

    python -m benchmarks.theorem_scale [--scale 0.01] [--cases best_first,matching_first]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

EPS, DELTA, SEED, JOBS = 0.1, 0.05, 0, 2
CASES = {
    "generate": ((784, (500, 10)), "best", "best"),
    "best_best": ((784, (500, 10)), "best", "best"),
    "best_best_numpy": ((784, (500, 10)), "best", "best"),
    "best_first": ((784, (500, 10)), "best", "first"),
    "matching_first": ((64, (32, 10)), "matching", "first"),
}


def _setup(case: str, scale: float):
    from stronglth import bounds, random_target

    (d, widths), rule, _ = CASES[case]
    target = random_target(d, list(widths), seed=SEED)
    ks = bounds.theorem_block_sizes(target.dims, EPS, DELTA, rule=rule, negative_half_everywhere=False)
    return target, [max(1, int(k * scale)) for k in ks]


def phase(case: str, scale: float) -> dict:
    """One case in this process: what it read, how long it took, its peak memory."""
    from stronglth.constructions import construct
    from stronglth.constructions.malach.layer import _pieces
    from stronglth.random_network import RandomNetwork

    target, ks = _setup(case, scale)
    _, rule, selection = CASES[case]
    network = RandomNetwork.for_target(target, ks, seed=SEED)
    from stronglth.constructions.malach.scan import scan_kernel

    out: dict = {"case": case, "dims": list(target.dims), "block_sizes": ks, "parameters": network.parameter_count}
    out["kernel"] = scan_kernel() if case != "generate" else None
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    if case == "generate":
        from benchmarks.malach_stream import generate

        pieces = [
            p
            for i, (w, k) in enumerate(zip(target.weights, ks, strict=True), start=1)
            for p in _pieces(network, i, w, k, 0.0, rule)
        ]
        out["values_read"] = generate(pieces, JOBS)
    else:
        ticket = construct(
            target, eps=EPS, delta=DELTA, seed=SEED, rule=rule, selection=selection, block_sizes=ks,
            jobs=JOBS, progress=False, on_failure="best_effort", max_values=float("inf"),
        )  # fmt: skip
        reads = sum(target.dims[i - 1] * k * (target.dims[i] + 1) for i, k in enumerate(ks, start=1))
        out.update(
            values_read=int(ticket.meta.get("values_read", reads)),
            values_in_blocks=reads,
            failures=ticket.meta["failures"],
            certified_error=ticket.certified_error,
            nnz=ticket.nnz,
        )
    out["seconds"] = time.perf_counter() - start
    out["cpu_seconds"] = _cpu_seconds() - cpu_start  # this process and its (finished) workers
    out["values_per_second"] = out["values_read"] / out["seconds"]
    out["values_per_cpu_second"] = out["values_read"] / out["cpu_seconds"]
    # the workers are gone by now: each child's peak is at most the largest child's
    out["peak_bytes"] = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + JOBS * resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ) * 1024
    return out


def _cpu_seconds() -> float:
    """User + system time of this process and of its children that have ended (the pool's workers,
    once the pool is shut down): what the case cost, whatever else the machine was running."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the theorem block sizes (1.0: the issue's setting)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, from {', '.join(CASES)}")
    parser.add_argument("--phase", choices=list(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(phase(args.phase, args.scale)))
        return {}
    from benchmarks._record import write_record

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    results, loads = {}, {}
    for case in cases:
        loads[case] = os.getloadavg()
        env = dict(os.environ)
        env.pop("STRONGLTH_SCAN_KERNEL", None)
        if case.endswith("_numpy"):
            env["STRONGLTH_SCAN_KERNEL"] = "numpy"
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.theorem_scale", "--phase", case, "--scale", str(args.scale)],
            capture_output=True, text=True, check=True, env=env,
        )  # fmt: skip
        results[case] = json.loads(proc.stdout.strip().splitlines()[-1])
        results[case]["load_before"] = loads[case]
        r = results[case]
        print(
            f"{case:15s} [{r['kernel'] or 'no scan'}] dims {'-'.join(map(str, r['dims']))}, k {r['block_sizes']}:"
            f" G {r['parameters']:.3g} weights;"
            f" read {r['values_read']:.3g} values in {r['seconds']:.1f} s ({r['values_per_second']:.3g} values/s;"
            f" {r['cpu_seconds']:.0f} CPU s, {r['values_per_cpu_second']:.3g} values per CPU s);"
            f" peak {r['peak_bytes'] / 2**30:.2f} GiB; load before {loads[case][0]:.2f}"
            + (f"; failures {r['failures']}, certified error {r['certified_error']:.4g}" if "failures" in r else ""),
            flush=True,
        )
    record: dict = {"scale": args.scale, "jobs": JOBS, "eps": EPS, "delta": DELTA, "results": results}
    for case, suffix in (("best_best", ""), ("best_best_numpy", "_numpy")):
        if case not in results or "generate" not in results:
            continue
        best, baseline = results[case], results["generate"]
        record[f"ratio_best_vs_generate{suffix}"] = best["seconds"] / baseline["seconds"]
        record[f"cpu_ratio_best_vs_generate{suffix}"] = best["cpu_seconds"] / baseline["cpu_seconds"]
        print(
            f"best rule, selection best, {best['kernel']} filter / generating its values:"
            f" {record[f'ratio_best_vs_generate{suffix}']:.3f} in wall time,"
            f" {record[f'cpu_ratio_best_vs_generate{suffix}']:.3f} in CPU time (target <= 1.2)"
        )
    record["load_after"] = os.getloadavg()
    path = write_record("theorem_scale" if args.scale == 1.0 else f"theorem_scale_scale{args.scale}", record)
    print(f"record: {path} (load average after: {record['load_after'][0]:.2f})")
    return record


if __name__ == "__main__":
    main()
