"""Benchmarks run by hand (docs/performance.md). Not part of the product or the test suite."""


class BenchError(Exception):
    """A benchmark that could not run (setup, a tool missing, a process that failed)."""
