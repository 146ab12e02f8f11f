"""Load benchmarks: each frontend under each production server, against baselines.

`uv run python -m benchmarks.load --help` for the flags; README "Benchmarks" for the
latest results and how they were made.
"""
