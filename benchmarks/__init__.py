"""Performance benchmarks: each prints a ratio against a baseline doing the same work, measured
in the same run, and writes a JSON record under benchmarks/results/. Run by hand or `make bench`;
never as timed tests."""
