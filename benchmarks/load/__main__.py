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
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from benchmarks.load import dataset, generators, report
from benchmarks.load.servers import KINDS, SERVERS, Running, Target, all_targets

SECRET = "benchmark-secret-" + "s" * 40
ENDPOINT_PATHS = {
    "list": "/api/{user}/tasks",
    "list_filtered": "/api/{user}/tasks?status=pending&priority=high&sort_by=dueDate&sort_order=asc",
    "stats": "/api/{user}/stats",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # type: ignore[no-any-return]


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
    parser.add_argument("--frameworks", nargs="+", default=list(SERVERS), choices=list(SERVERS))
    parser.add_argument("--servers", nargs="+", help="only these servers (default: all)")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--endpoints", nargs="+", default=["list", "list_filtered", "stats", "stats_10k"])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument(
        "--out", type=Path, help="default: benchmarks/results (--short: benchmarks/results/short)"
    )
    args = parser.parse_args(argv)
    if args.short:
        args.users, args.big_user_tasks, args.seconds, args.warmup = 200, 2000, 2.0, 0.5
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
        cells = run_all(targets, args, sets, env, workdir)
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
    table = report.save(cells, args.out, context, "todo-api load benchmark (requests per second)")
    print("\n" + table, flush=True)
    print(f"wrote {args.out}/latest.md, latest.json, latest.png in {time.monotonic() - started:.0f} s")
    failed = [c for c in cells if c.result.errors or c.result.non200 or not c.result.requests]
    for cell in failed:
        print(f"FAILED {cell.target.name} {cell.endpoint}: {cell.result}", file=sys.stderr)
    return 1 if failed else 0


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
        port = free_port()
        server = Running(
            target, port, args.workers, env, str(workdir / f"{target.name.replace('/', '-')}.log")
        )
        try:
            server.wait_ready()
            for endpoint in endpoints:
                pairs, path = sets[endpoint]
                if args.warmup:
                    generators.measure(port, pairs, path, args.connections, args.warmup)
                result = generators.measure(port, pairs, path, args.connections, args.seconds)
                print(
                    f"    {endpoint:14} {result.rps:8,.0f} req/s  p99 {result.p99_ms:6.1f} ms"
                    f"  failed {result.errors + result.non200}",
                    flush=True,
                )
                cells.append(report.Cell(target, endpoint, result))
        finally:
            server.stop()
    return cells


if __name__ == "__main__":
    sys.exit(main())
