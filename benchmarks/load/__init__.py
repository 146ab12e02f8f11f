"""Load benchmarks: each frontend under each production server, against baselines.

`uv run python -m benchmarks.load --help` for the flags; docs/benchmarks.md for the
latest results and how they were made.
"""
