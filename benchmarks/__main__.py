"""``python -m benchmarks`` (``make bench``): run every benchmark; each prints its ratios and
writes a JSON record under benchmarks/results/."""

import importlib

BENCHMARKS = ("malach_stream", "subsetsum_solve", "subsetsum_construct", "verify_throughput", "edge_popup_step")

for name in BENCHMARKS:
    print(f"== benchmarks.{name}")
    importlib.import_module(f"benchmarks.{name}").main([])
    print()
