"""The database-latency axis: each frontend · server with PostgreSQL 0, 2, 10 and 30 ms away.

A delaying proxy (`latency_proxy`) sits between the servers and PostgreSQL; each round
trip point starts the servers against it. "direct" (no proxy) beside "0 ms" shows what
the proxy itself costs, so that it is known not to be the limit. The Little's-law bound,
connections / round-trip time, is what no server can beat: each request needs at least
one round trip, and at most `connections` requests are in flight.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from benchmarks.load import generators, report
from benchmarks.load.generators import Measurement
from benchmarks.load.latency_proxy import LatencyProxy, unix_socket_of
from benchmarks.load.report import ENDPOINT_TITLES
from benchmarks.load.servers import Running, Target

DIRECT = None  # the round trip of the point measured without the proxy

POOL_GROWTH_SECONDS = 2.0
"""Load before a fresh server's first cell on this axis. psycopg_pool opens connections one
at a time as requests wait, each costing several round trips (about 60 ms at 10 ms), so a
pool takes 1-1.5 s to reach the size 32 connections need; a cell measured meanwhile read
0.77 of its bound where a warm pool read 0.81 (#21). A serving deployment has a warm pool."""


@attrs.frozen
class LatencyCell:
    target: Target
    endpoint: str
    rtt_ms: float | None  # None: direct, no proxy
    result: Measurement


def rtt_label(rtt_ms: float | None) -> str:
    return "direct" if rtt_ms is None else f"{rtt_ms:g} ms"


def littles_law_bound(connections: int, rtt_ms: float | None) -> float | None:
    return connections / (rtt_ms / 1000) if rtt_ms else None


def upstream_of(conninfo: str) -> str:
    socket_path = unix_socket_of(conninfo)
    if socket_path:
        return socket_path
    params = conninfo_to_dict(conninfo)
    return f"{params.get('host') or '127.0.0.1'}:{params.get('port') or 5432}"


def sweep(
    targets: list[Target],
    args: argparse.Namespace,
    sets: dict[str, tuple[list[tuple[str, str]], Path]],
    env: dict[str, str],
    workdir: Path,
) -> list[LatencyCell]:
    """Every target at every round trip; one proxy per round trip, servers started behind it."""
    cells: list[LatencyCell] = []
    points: list[float | None] = ([DIRECT] if args.latency_direct else []) + list(args.latencies)
    for rtt_ms in points:
        with database_at(rtt_ms, env) as point_env:
            for target in targets:
                print(f"[database {rtt_label(rtt_ms)}] {target.label}", flush=True)
                server = Running.start(target, args.workers, point_env, workdir, f"rtt{rtt_label(rtt_ms)}")
                try:
                    warm_pool(server, args.latency_endpoints[0], sets, args.connections)
                    for endpoint in args.latency_endpoints:
                        result = generators.measure_endpoint(server.port, endpoint, sets[endpoint],
                                                             args.connections, args.warmup, args.seconds)
                        cells.append(LatencyCell(target, endpoint, rtt_ms, result))
                finally:
                    server.stop()
    return cells


def warm_pool(server: Running, endpoint: str, sets: dict[str, tuple[list[tuple[str, str]], Path]],
              connections: int) -> None:
    """Load a freshly started server until its pools have grown (`POOL_GROWTH_SECONDS`)."""
    pairs, path = sets[endpoint]
    generators.measure(server.port, pairs, path, connections, POOL_GROWTH_SECONDS)


@contextlib.contextmanager
def database_at(rtt_ms: float | None, env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The servers' environment with PostgreSQL `rtt_ms` away, behind a delaying proxy
    that lives as long as the block (None: direct, no proxy)."""
    if rtt_ms is None:
        yield env
        return
    proxy = LatencyProxy(upstream_of(env["DATABASE_URL"]), rtt_ms).start()
    try:
        yield {**env, "DATABASE_URL": make_conninfo(env["DATABASE_URL"], host="127.0.0.1", port=proxy.port)}
    finally:
        proxy.stop()


def markdown(cells: list[LatencyCell], connections: int) -> str:
    points = list(dict.fromkeys(c.rtt_ms for c in cells))
    rows = list(dict.fromkeys((c.target, c.endpoint) for c in cells))
    by_key = {(c.target, c.endpoint, c.rtt_ms): c.result for c in cells}
    header = "| app · server · endpoint | " + " | ".join(rtt_label(p) for p in points) + " |"
    rule = "|---|" + "---:|" * len(points)
    bounds = [littles_law_bound(connections, p) for p in points]
    lines = [
        f"Requests per second by database round-trip time ({connections} connections; "
        "in brackets, the share of the Little's-law bound, connections / round trip; "
        "a cell that a gate measured again shows the median of its measurements):",
        "",
        header,
        rule,
        "| *Little's-law bound* | " + " | ".join(f"*{b:,.0f}*" if b else "" for b in bounds) + " |",
    ]
    for target, endpoint in rows:
        row = []
        for point, bound in zip(points, bounds, strict=True):
            result = by_key.get((target, endpoint, point))
            share = f" ({result.rps / bound:.2f}x)" if result and bound else ""
            row.append(f"{result.rps:,.0f}{share}" if result else "")
        lines.append(f"| {target.label} · {ENDPOINT_TITLES[endpoint]} | " + " | ".join(row) + " |")
    lines += ["", "p99 latency in ms by database round-trip time (failures in bold):", "", header, rule]
    for target, endpoint in rows:
        row = []
        for point in points:
            result = by_key.get((target, endpoint, point))
            failed = (result.errors + result.non200) if result else 0
            failures = f" **{failed} failed**" if failed else ""
            row.append("" if result is None else f"{result.p99_ms:.1f}{failures}")
        lines.append(f"| {target.label} · {ENDPOINT_TITLES[endpoint]} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def chart(cells: list[LatencyCell], path: Path, connections: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    proxied = [c for c in cells if c.rtt_ms is not None]
    points = sorted({c.rtt_ms for c in proxied if c.rtt_ms is not None})
    rows = list(dict.fromkeys((c.target, c.endpoint) for c in proxied))
    by_key = {(c.target, c.endpoint, c.rtt_ms): c.result for c in proxied}
    figure, (rps_axis, p99_axis) = plt.subplots(1, 2, figsize=(14, 5.5))
    for target, endpoint in rows:
        label = f"{target.label} · {ENDPOINT_TITLES[endpoint]}"
        style = "-" if endpoint == "list" else "--"
        results = [by_key.get((target, endpoint, p)) for p in points]
        rps_axis.plot(points, [r.rps if r else None for r in results], style, marker="o", label=label)
        p99_axis.plot(points, [r.p99_ms if r else None for r in results], style, marker="o", label=label)
    bound_points = [p for p in points if p]
    rps_axis.plot(bound_points, [connections / (p / 1000) for p in bound_points], ":", color="grey",
                  label="Little's-law bound")
    rps_axis.set_ylim(0, max((c.result.rps for c in proxied), default=1) * 1.15)
    rps_axis.set(xlabel="database round trip (ms)", ylabel="requests per second", title="Throughput")
    p99_axis.set(xlabel="database round trip (ms)", ylabel="p99 latency (ms)", title="Tail latency")
    for axis in (rps_axis, p99_axis):
        axis.set_xticks(points)
        axis.grid(alpha=0.3)
    p99_axis.legend(loc="upper left", fontsize=8)
    figure.suptitle(f"todo-api with the database across a network ({connections} connections)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def as_json(cells: list[LatencyCell]) -> list[dict[str, Any]]:
    return [
        {"target": attrs.asdict(c.target), "endpoint": c.endpoint, "rtt_ms": c.rtt_ms,
         **attrs.asdict(c.result), "rps": c.result.rps}
        for c in cells
    ]


def save(cells: list[LatencyCell], out: Path, connections: int, run: dict[str, Any]) -> str:
    out.mkdir(parents=True, exist_ok=True)
    table = markdown(cells, connections)
    (out / "latency.md").write_text(table)
    report.write_json(out / "latency.json", run, as_json(cells))
    chart(cells, out / "latency.png", connections)
    return table
