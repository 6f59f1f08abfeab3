"""Benchmarks of the sandbox (run with ``make bench``)."""
