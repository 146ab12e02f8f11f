"""Hand-written baselines: the least work the benchmarked endpoints need.

Each checks the HS256 token, runs one query, and dumps JSON, with no routing table,
validation layer or error shaping. They are the ceilings the frontends are judged by.
"""
