"""Run the load benchmark: `uv run python -m benchmarks.load [--short] [flags]`.

Starts PostgreSQL (embedded, unless --database-url), loads the data set, then runs each
app under each server, one at a time, with the same workers, connections and duration.
Writes latest.md, latest.json and latest.png to --out and prints the table. Exits 1 if
any request failed or answered anything but 200 (never because of a timing).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from benchmarks.load import dataset, generators, latency, observing, polling, report
from benchmarks.load.servers import KINDS, Running, Target, all_targets
from todo_api.frontends import FRONTENDS

SECRET = "benchmark-secret-" + "s" * 40
ENDPOINT_PATHS = {
    "list": "/api/{user}/tasks",
    "list_filtered": "/api/{user}/tasks?status=pending&priority=high&sort_by=dueDate&sort_order=asc",
    "stats": "/api/{user}/stats",
}


def request_sets(users: list[str], workdir: Path) -> dict[str, tuple[list[tuple[str, str]], Path]]:
    """For each endpoint, the (path, token) pairs to cycle through, also as a file for wrk."""
    tokens = {user: dataset.token_for(user, SECRET) for user in users + [dataset.BIG_USER]}
    sets = {
        name: [(template.format(user=u), tokens[u]) for u in users]
        for name, template in ENDPOINT_PATHS.items()
    }
    sets["stats_10k"] = [(f"/api/{dataset.BIG_USER}/stats", tokens[dataset.BIG_USER])]
    sets["trivial"] = [("/health", tokens[users[0]])]
    files = {}
    for name, pairs in sets.items():
        path = workdir / f"{name}.tsv"
        path.write_text("".join(f"{p}\t{t}\n" for p, t in pairs))
        files[name] = (pairs, path)
    return files


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--short", action="store_true", help="CI size: small data, 2 s per cell")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--tasks-per-user", type=int, default=25)
    parser.add_argument("--big-user-tasks", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per cell")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--frameworks", nargs="+", default=list(FRONTENDS), choices=list(FRONTENDS))
    parser.add_argument("--servers", nargs="+", help="only these servers (default: all)")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--endpoints", nargs="+", default=["list", "list_filtered", "stats", "stats_10k"])
    parser.add_argument("--parts", nargs="+", default=["servers", "latency", "polling", "observing"],
                        choices=["servers", "latency", "polling", "observing"],
                        help="servers: every app under every server; latency: the database-latency axis; "
                             "observing: access log and metrics on and off")
    parser.add_argument("--latencies", nargs="+", type=float, default=[0, 2, 10, 30],
                        help="database round trips to sweep, in ms (--short: 10)")
    parser.add_argument("--latency-servers", nargs="+",
                        help="the API's servers on the latency axis (default: all; --short: the defaults)")
    parser.add_argument("--latency-endpoints", nargs="+", default=["list", "stats"])
    parser.add_argument("--observing-rounds", type=int, default=2,
                        help="rounds of access log and metrics on, then off (--short: 1)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument(
        "--out", type=Path, help="default: benchmarks/results (--short: benchmarks/results/short)"
    )
    args = parser.parse_args(argv)
    args.latency_direct = not args.short  # the proxy's own cost: direct beside 0 ms
    if args.short:
        args.users, args.big_user_tasks, args.seconds, args.warmup = 200, 2000, 2.0, 0.5
        args.latencies = [10.0]
        args.latency_servers = args.latency_servers or sorted({f.default_server for f in FRONTENDS.values()})
    if args.out is None:
        args.out = Path("benchmarks/results/short" if args.short else "benchmarks/results")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="todo-bench-"))
    server_url, embedded = args.database_url, None
    if not server_url:
        from storage.embedded import start_embedded

        print("starting PostgreSQL (embedded)", flush=True)
        embedded = start_embedded(workdir / "pg", cleanup="delete")
        server_url = embedded.url
    name = f"todo_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    conninfo = make_conninfo(server_url, dbname=name)
    try:
        print("loading data", flush=True)
        dataset.load(conninfo, args.users, args.tasks_per_user, args.big_user_tasks)
        users = dataset.user_ids(args.users)
        sets = request_sets(users, workdir)
        env = {
            "DATABASE_URL": conninfo,
            "BETTER_AUTH_SECRET": SECRET,
            "MIGRATE_ON_START": "false",
            "PYTHONPATH": os.getcwd(),
        }
        targets = [
            t
            for t in all_targets(tuple(args.frameworks))
            if t.kind in args.kinds and (not args.servers or t.server in args.servers)
        ]
        cells = run_all(targets, args, sets, env, workdir) if "servers" in args.parts else []
        latency_targets = [
            t
            for t in all_targets(tuple(args.frameworks))
            if t.kind == "api" and (not args.latency_servers or t.server in args.latency_servers)
            and (not args.short or t.server == FRONTENDS[t.framework].default_server)
        ]
        latency_cells = []
        if "latency" in args.parts:
            latency_cells = latency.sweep(latency_targets, args, sets, env, workdir)
        poll_cells = []
        if "polling" in args.parts:
            big = dataset.BIG_USER
            poll_users = {"25 tasks": (f"/api/{users[0]}/tasks", dataset.token_for(users[0], SECRET)),
                          "10,000 tasks": (f"/api/{big}/tasks", dataset.token_for(big, SECRET))}
            poll_cells = polling.sweep(args, poll_users, env, workdir)
        observe_cells = observing.sweep(args, sets, env, workdir) if "observing" in args.parts else []
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if embedded is not None:
            embedded.stop()
    generator = "wrk" if generators.have_wrk() else "built-in asyncio generator"
    context = (
        f"{len(users)} users x {args.tasks_per_user} tasks + {args.big_user_tasks} for one user; "
        f"{args.workers} workers per server, {args.connections} connections, {args.seconds:g} s per cell, "
        f"{generator}; {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}."
    )
    if cells:
        table = report.save(cells, args.out, context, "todo-api load benchmark (requests per second)")
        print("\n" + table, flush=True)
    if latency_cells:
        print("\n" + latency.save(latency_cells, args.out, args.connections), flush=True)
    if poll_cells:
        print("\n" + polling.save(poll_cells, args.out), flush=True)
    if observe_cells:
        print("\n" + observing.save(observe_cells, args.out), flush=True)
    print(f"wrote the results to {args.out}/ in {time.monotonic() - started:.0f} s")
    every_cell: list[report.Cell | latency.LatencyCell | observing.ObserveCell] = [
        *cells, *latency_cells, *observe_cells]
    failed = [c for c in every_cell if c.result.errors or c.result.non200 or not c.result.requests]
    for cell in failed:
        print(f"FAILED {cell.target.name} {cell.endpoint}: {cell.result}", file=sys.stderr)
    for poll_cell in poll_cells:
        if poll_cell.failed:
            print(f"FAILED polling {poll_cell.target.name} {poll_cell.user}: {poll_cell.result}",
                  file=sys.stderr)
    return 1 if failed or any(c.failed for c in poll_cells) else 0


def run_all(
    targets: list[Target],
    args: argparse.Namespace,
    sets: dict[str, tuple[list[tuple[str, str]], Path]],
    env: dict[str, str],
    workdir: Path,
) -> list[report.Cell]:
    cells: list[report.Cell] = []
    for number, target in enumerate(targets, 1):
        endpoints = list(args.endpoints) + (["trivial"] if target.kind == "raw" else [])
        print(f"[{number}/{len(targets)}] {target.label}: {', '.join(endpoints)}", flush=True)
        server = Running.start(target, args.workers, env, workdir)
        try:
            for endpoint in endpoints:
                result = generators.measure_endpoint(server.port, endpoint, sets[endpoint], args.connections,
                                                     args.warmup, args.seconds)
                cells.append(report.Cell(target, endpoint, result))
        finally:
            server.stop()
    return cells


if __name__ == "__main__":
    sys.exit(main())
