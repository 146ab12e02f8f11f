"""Run the load benchmark: `uv run python -m benchmarks.load [--short] [flags]`.

Starts PostgreSQL (embedded, unless --database-url), loads the data set, then runs each
app under each server, one at a time, with the same workers, connections and duration,
and the other parts (--parts). Checks the gates: ratios measured in this run against their
floors in pyproject.toml (benchmarks/load/gates.py). Writes each part's JSON and Markdown,
latest.png and summary.md to --out (and to $GITHUB_STEP_SUMMARY when set). Exits 1 if a
request failed or answered anything but 200, or a gate stayed below its floor.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs
import psycopg
from psycopg.conninfo import make_conninfo

from benchmarks.load import (
    compare,
    counts,
    dataset,
    flask_servers,
    fleet,
    gates,
    generators,
    latency,
    live,
    micro,
    observing,
    polling,
    report,
    run_info,
    summary,
)
from benchmarks.load.servers import KINDS, Running, Target, all_targets
from todo_api.serve.frontends import FRONTENDS

SECRET = "benchmark-secret-" + "s" * 40
PARTS = ["micro", "servers", "latency", "polling", "observing", "live", "fleet", "counts", "flask_servers"]
DEFAULT_PARTS = PARTS[:-1]  # flask_servers is asked for by name: a choice made once, not each run
ENDPOINT_PATHS = {
    "list": "/api/{user}/tasks",
    "list_filtered": "/api/{user}/tasks?status=pending&priority=high&sort_by=dueDate&sort_order=asc",
    "stats": "/api/{user}/stats",
}


RequestSets = dict[str, tuple[list[tuple[str, str]], Path]]
"""For each endpoint, the (path, token) pairs to cycle through, and the same as a file for wrk."""


def request_sets(users: list[str], workdir: Path) -> RequestSets:
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
    parser.add_argument("--users", type=int, help="default 2000 (--short: 200)")
    parser.add_argument("--tasks-per-user", type=int, default=25)
    parser.add_argument("--big-user-tasks", type=int, help="default 10000 (--short: 2000)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, help="measured time per cell: default 10 (--short: 2)")
    parser.add_argument("--warmup", type=float, help="default 2 (--short: 0.5)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, help="interleaved rounds of the servers part: default 3 "
                                                   "(--short: 2)")
    parser.add_argument("--frameworks", nargs="+", default=list(FRONTENDS), choices=list(FRONTENDS))
    parser.add_argument("--servers", nargs="+", help="only these servers (default: all)")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--endpoints", nargs="+", default=["list", "list_filtered", "stats", "stats_10k"])
    parser.add_argument("--flask-stops", type=int, default=20,
                        help="flask_servers: stops after load per design, the rounds' included")
    parser.add_argument("--parts", nargs="+", default=DEFAULT_PARTS, choices=PARTS,
                        help="micro: pytest-benchmark's micro benchmarks; servers: every app under every "
                             "server; latency: the database-latency axis; polling: 304s; "
                             "observing: access log and metrics on and off; live: event streams; "
                             "fleet: HAProxy and a read replica; counts: the Citus recipe's count "
                             "triggers; flask_servers: the Flask frontend under each server design")
    parser.add_argument("--latencies", nargs="+", type=float, default=[0, 2, 10, 30],
                        help="database round trips to sweep, in ms (--short: 10)")
    parser.add_argument("--latency-servers", nargs="+",
                        help="the API's servers on the latency axis (default: all; --short: the defaults)")
    parser.add_argument("--latency-endpoints", nargs="+", default=["list", "stats"])
    parser.add_argument("--observing-rounds", type=int, default=2,
                        help="rounds of access log and metrics on, then off (--short: 1)")
    parser.add_argument("--live-subscribers", nargs="+", type=int,
                        help="live: event streams held at once: default 100 1000 5000 (--short: 100 1000)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--compare", type=Path, metavar="LATEST_JSON",
                        help="each cell's change against a baseline run, e.g. benchmarks/results/latest.json")
    parser.add_argument(
        "--out", type=Path, help="default: benchmarks/results (--short: benchmarks/results/short)"
    )
    args = parser.parse_args(argv)
    args.latency_direct = not args.short  # the proxy's own cost: direct beside 0 ms
    short_sizes = {"users": 200, "big_user_tasks": 2000, "seconds": 2.0, "warmup": 0.5, "rounds": 2,
                   "live_subscribers": [100, 1000]}
    full_sizes = {"users": 2000, "big_user_tasks": 10_000, "seconds": 10.0, "warmup": 2.0, "rounds": 3,
                  "live_subscribers": [100, 1000, 5000]}
    sizes = short_sizes if args.short else full_sizes
    for name, size in sizes.items():  # an explicit flag wins over either size
        if getattr(args, name) is None:
            setattr(args, name, size)
    if args.short:
        args.latencies = [0.0, 10.0]  # the littles_law gate reads 10 ms against 0 ms
        args.latency_servers = args.latency_servers or sorted({f.default_server for f in FRONTENDS.values()})
    if args.out is None:
        args.out = Path("benchmarks/results/short" if args.short else "benchmarks/results")
    return args


@attrs.define
class Results:
    """Everything one run measured, with what it measured on."""

    run: dict[str, Any]
    cells: list[report.Cell] = attrs.Factory(list)
    latency_cells: list[latency.LatencyCell] = attrs.Factory(list)
    poll_cells: list[polling.PollCell] = attrs.Factory(list)
    observe_cells: list[observing.ObserveCell] = attrs.Factory(list)
    live_cells: list[live.LiveCell] = attrs.Factory(list)
    live_breaches: list[str] = attrs.Factory(list)
    fleet_cells: list[fleet.FleetCell] = attrs.Factory(list)
    counts_cells: list[counts.CountsCell] = attrs.Factory(list)
    flask_designs: list[flask_servers.DesignResult] = attrs.Factory(list)
    verdicts: list[gates.Verdict] = attrs.Factory(list)
    spread_verdicts: list[gates.SpreadVerdict] = attrs.Factory(list)
    micro_passed: bool = True

    def failures(self) -> list[str]:
        """What fails the run: a failed request or non-200 answer, a gate below its floor."""
        every_cell: list[report.Cell | latency.LatencyCell | observing.ObserveCell] = [
            *self.cells, *self.latency_cells, *self.observe_cells]
        failed = [f"{c.target.name} {c.endpoint}: {c.result}" for c in every_cell
                  if c.result.errors or c.result.non200 or not c.result.requests]
        failed += [f"polling {c.target.name} {c.user}: {c.result}" for c in self.poll_cells if c.failed]
        failed += [f"live {c.target.name} {c.database} {c.asked}: held {c.held}, failed {c.failed}, "
                   f"undelivered {c.undelivered}" for c in self.live_cells if c.broken]
        failed += self.live_breaches
        failed += [f"fleet {c.target.name} {c.layout} {c.endpoint}: {c.result}" for c in self.fleet_cells
                   if c.broken]
        failed += [f"gate {v.gate.where}: {v.gate.title} = {v.value:.2f} (measured {len(v.values)} times), "
                   f"floor {v.gate.floor:.2f}" for v in self.verdicts if v.fails_the_run]
        failed += [f"spread {v.where}: {v.spread:.2f}, above {v.limit:.2f} and {v.over_raw:.2f}x the raw "
                   f"callable's {v.raw_spread:.2f}" for v in self.spread_verdicts if not v.passed]
        if not self.micro_passed:
            failed.append("micro benchmarks: a test failed (see above)")
        return failed


@contextlib.contextmanager
def benchmark_database(database_url: str | None, workdir: Path) -> Iterator[tuple[str, str]]:
    """(server URL, URL of a new database on it), dropped at the end; the server is an
    embedded PostgreSQL in `workdir` unless `database_url` names one."""
    embedded = None
    if not database_url:
        from storage.embedded import start_embedded

        print("starting PostgreSQL (embedded)", flush=True)
        embedded = start_embedded(workdir / "pg", cleanup="delete")
        database_url = embedded.url
    name = f"todo_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield database_url, make_conninfo(database_url, dbname=name)
        finally:
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        if embedded is not None:
            embedded.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = gates.GateConfig.load()
    baseline = compare.Run.load(args.compare) if args.compare else None  # before this run overwrites it
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="todo-bench-"))
    try:
        with benchmark_database(args.database_url, workdir) as (server_url, conninfo):
            results = measure(args, config, server_url, conninfo, workdir)
    except BaseException:
        print(f"the servers' logs are kept in {workdir}", file=sys.stderr)
        raise
    publish(args, config, results, baseline)
    print(f"wrote the results to {args.out}/ in {time.monotonic() - started:.0f} s")
    failures = results.failures()
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    if failures:
        print(f"the servers' logs are kept in {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failures else 0


def measure(args: argparse.Namespace, config: gates.GateConfig, server_url: str, conninfo: str,
            workdir: Path) -> Results:
    """Every part asked for, then the gates (measuring again what falls short)."""
    print("loading data", flush=True)
    dataset.load(conninfo, args.users, args.tasks_per_user, args.big_user_tasks)
    users = dataset.user_ids(args.users)
    sets = request_sets(users, workdir)
    env = {"DATABASE_URL": conninfo, "BETTER_AUTH_SECRET": SECRET, "MIGRATE_ON_START": "false",
           "PYTHONPATH": os.getcwd()}
    every_target = all_targets(tuple(args.frameworks))
    targets = [t for t in every_target
               if t.kind in args.kinds and (not args.servers or t.server in args.servers)]
    results = Results(run_info.describe(args, conninfo, targets))
    if "micro" in args.parts:
        results.micro_passed = micro.run(args.out, server_url, args.short)
    if "servers" in args.parts:
        results.cells = run_all(targets, args, sets, env, workdir)
    if "latency" in args.parts:
        latency_targets = [
            t for t in every_target
            if t.kind == "api" and (not args.latency_servers or t.server in args.latency_servers)
            and (not args.short or t.server == FRONTENDS[t.framework].default_server)
        ]
        results.latency_cells = latency.sweep(latency_targets, args, sets, env, workdir)
    if "polling" in args.parts:
        big = dataset.BIG_USER
        poll_users = {"25 tasks": (f"/api/{users[0]}/tasks", dataset.token_for(users[0], SECRET)),
                      "10,000 tasks": (f"/api/{big}/tasks", dataset.token_for(big, SECRET))}
        results.poll_cells = polling.sweep(args, poll_users, env, workdir)
    if "observing" in args.parts:
        results.observe_cells = observing.sweep(args, sets, env, workdir)
    if "live" in args.parts:
        with live_databases(server_url, conninfo, workdir) as databases:
            results.live_cells = live.sweep(args, databases, conninfo, env, SECRET, workdir)
        results.live_breaches = live.LiveGate.load().breaches(results.live_cells)
    if "fleet" in args.parts:
        results.fleet_cells = fleet.sweep(args, sets, env, workdir)
    if "counts" in args.parts:
        results.counts_cells = counts.sweep(args, server_url)
    if "flask_servers" in args.parts:
        results.flask_designs = flask_servers.sweep(args, sets, env, workdir)
    measured = {gates.CellKey(c.target, c.endpoint): c.result for c in results.cells}
    measured |= {gates.CellKey(c.target, c.endpoint, c.rtt_ms): c.result
                 for c in results.latency_cells if c.rtt_ms is not None}
    again: dict[gates.CellKey, list[generators.Measurement]] = {}

    def measure_again(key: gates.CellKey) -> generators.Measurement:
        result = measure_cell(key, args, sets, env, workdir)
        again.setdefault(key, []).append(result)
        return result

    results.verdicts = gates.check(gates.gates_for(config, args.frameworks, args.connections), measured,
                                   measure_again, config.measurements)
    results.spread_verdicts = gates.spreads(config, results.cells)  # of the rounds, before any remeasure
    results.cells = [settled(c, again.get(gates.CellKey(c.target, c.endpoint), [])) for c in results.cells]
    results.latency_cells = [settled(c, again.get(gates.CellKey(c.target, c.endpoint, c.rtt_ms), []))
                             if c.rtt_ms is not None else c for c in results.latency_cells]
    return results


@contextlib.contextmanager
def live_databases(server_url: str, conninfo: str, workdir: Path) -> Iterator[dict[str, str]]:
    """The database direct, and through Debian's PgBouncer in transaction mode when it is
    installed (tests/pgbouncer.py starts it, as the tests do)."""
    from tests.pgbouncer import PgBouncer

    try:
        pooler = PgBouncer(server_url, workdir / "pgbouncer", pool_size=8)
    except BaseException as missing:  # pytest's skip when the binary cannot be had
        print(f"[live] no PgBouncer, the direct path only: {missing}", flush=True)
        yield {"direct": conninfo}
        return
    try:
        yield {"direct": conninfo, "PgBouncer": pooler.url(conninfo)}
    finally:
        pooler.stop()


Settled = TypeVar("Settled", report.Cell, latency.LatencyCell)


def settled(cell: Settled, again: list[generators.Measurement]) -> Settled:
    """A cell that a gate measured again shows the median of its measurements (by req/s,
    the lower of the middle two), so that its table and the gate tell the same story."""
    if not again:
        return cell
    return attrs.evolve(cell, result=report.median_round([cell.result, *again]))


def measure_cell(key: gates.CellKey, args: argparse.Namespace, sets: RequestSets, env: dict[str, str],
                 workdir: Path) -> generators.Measurement:
    """One cell on its own: its server started (behind the latency proxy on that axis), measured, stopped."""
    with latency.database_at(key.rtt_ms, env) as cell_env:
        server = Running.start(key.target, args.workers, cell_env, workdir, tag="again")
        try:
            if key.rtt_ms is not None:
                latency.warm_pool(server, key.endpoint, sets, args.connections)
            return generators.measure_endpoint(server.port, key.endpoint, sets[key.endpoint],
                                               args.connections, args.warmup, args.seconds)
        finally:
            server.stop()


def publish(args: argparse.Namespace, config: gates.GateConfig, results: Results,
            baseline: compare.Run | None) -> None:
    """Each part's files, the summary (also to GitHub's step summary), the tables printed."""
    run, out = results.run, args.out
    out.mkdir(parents=True, exist_ok=True)
    context = run_info.sentence(run)
    sections: list[tuple[str, str]] = []
    passed = sum(v.passed for v in results.verdicts if v.measured)
    measured = sum(v.measured for v in results.verdicts)
    if results.verdicts:
        gate_table = gates.markdown(results.verdicts)
        report.write_json(out / "gates.json", run, [v.as_json() for v in results.verdicts])
        failing = any(v.fails_the_run for v in results.verdicts)
        heading = f"Gates: {passed} of {measured} pass"
        sections.append((heading + (" ❌" if failing else ""), gate_table))
        print("\n" + gate_table, flush=True)
    if results.spread_verdicts:
        spread_table = gates.spread_markdown(results.spread_verdicts)
        report.write_json(out / "spread.json", run, [v.as_json() for v in results.spread_verdicts])
        steady = sum(v.passed for v in results.spread_verdicts)
        sections.append((f"Spread of the rounds: {steady} of {len(results.spread_verdicts)} steady"
                         + ("" if steady == len(results.spread_verdicts) else " ❌"), spread_table))
        print("\n" + spread_table, flush=True)
    if results.cells:
        table = report.save(results.cells, out, context, "todo-api load benchmark (requests per second)", run)
        without_context = table.split("\n", 2)[2]
        chart = summary.text_chart(results.cells)
        sections.append(("Requests per second", f"{without_context}\n{chart}\nAs a picture: `latest.png`."))
        print("\n" + table, flush=True)
    parts: list[tuple[str, Sequence[object], Callable[[], str]]] = [  # saved only when the part ran
        ("The database across a network", results.latency_cells,
         lambda: latency.save(results.latency_cells, out, args.connections, run)),
        ("Polling: a 304 against the full list", results.poll_cells,
         lambda: polling.save(results.poll_cells, out, run)),
        ("The cost of the access log and metrics", results.observe_cells,
         lambda: observing.save(results.observe_cells, out, run)),
        ("Live sync: event streams", results.live_cells, lambda: live.save(results.live_cells, out, run)),
        ("Beyond one instance: HAProxy and a read replica", results.fleet_cells,
         lambda: fleet.save(results.fleet_cells, out, run)),
        ("The stats' counters: statement-level or row-level triggers", results.counts_cells,
         lambda: counts.save(results.counts_cells, out, run)),
        ("Flask under each server design", results.flask_designs,
         lambda: flask_servers.save(results.flask_designs, out, args.connections, run)),
    ]
    for heading, cells, save in parts:
        if cells:
            table = save()
            sections.append((heading, table))
            print("\n" + table, flush=True)
    if baseline is not None and results.cells:
        table, flagged = compare.compare(compare.Run.load(out / "latest.json"), baseline, config.noise)
        heading = f"Against {args.compare}" + (f": {flagged} beyond the noise" if flagged else "")
        sections.append((heading, table))
        print("\n" + table, flush=True)
    if "micro" in args.parts:
        sections.append(("Micro benchmarks (pytest-benchmark)", summary.micro_table(out / "micro.json")))
    title = "todo-api benchmark" + (" (short)" if args.short else "")
    path = summary.publish(summary.compose(title, context, sections), out)
    print(f"summary: {path}", flush=True)
def run_all(
    targets: list[Target],
    args: argparse.Namespace,
    sets: dict[str, tuple[list[tuple[str, str]], Path]],
    env: dict[str, str],
    workdir: Path,
) -> list[report.Cell]:
    """Every target on every endpoint, in `args.rounds` interleaved rounds (each round
    starts every server once): a slow minute of the machine falls on all of a round's
    cells, not on one cell, and a cell that swings shows in its spread."""
    measured: dict[tuple[Target, str], list[generators.Measurement]] = {}
    for round_number in range(1, args.rounds + 1):
        for number, target in enumerate(targets, 1):
            endpoints = list(args.endpoints) + (["trivial"] if target.kind == "raw" else [])
            print(f"[round {round_number}/{args.rounds}] [{number}/{len(targets)}] {target.label}: "
                  f"{', '.join(endpoints)}", flush=True)
            server = Running.start(target, args.workers, env, workdir, tag=f"round{round_number}")
            try:
                for endpoint in endpoints:
                    result = generators.measure_endpoint(server.port, endpoint, sets[endpoint],
                                                         args.connections, args.warmup, args.seconds)
                    measured.setdefault((target, endpoint), []).append(result)
            finally:
                server.stop()
    return [report.Cell(target, endpoint, report.median_round(rounds), tuple(rounds))
            for (target, endpoint), rounds in measured.items()]


if __name__ == "__main__":
    sys.exit(main())
