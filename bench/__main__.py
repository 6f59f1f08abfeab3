"""Placeholder entry point: benchmarks arrive with the benchmark suite."""

raise SystemExit("no benchmarks yet")
