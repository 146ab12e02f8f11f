"""The fleet part: what a load balancer costs, and how much a read replica takes on.

On a PostgreSQL of its own with a streaming replica (`pg_basebackup -R`, as docs/scaling.md
makes one), holding the run's data set, each frontend under its default server serves list
and stats in three layouts, in interleaved rounds:

- `direct`: one instance with the run's workers, the clients on its port;
- `haproxy`: two instances, each with half the workers, behind Debian's HAProxy loading
  docs/recipes/haproxy.cfg (the same worker count in all);
- `haproxy + replica`: the same, with DATABASE_REPLICA_URL, and the share of list and stats
  bodies the replica read (`todo_api_db_reads_total`).

Two cores cannot serve more with more instances: the numbers are the balancer's cost and the
replica's share, as ratios, never a scaling claim.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from benchmarks.load import dataset, generators, report
from benchmarks.load.generators import Measurement
from benchmarks.load.servers import Running, Target, scrape_metrics
from todo_api.serve.frontends import FRONTENDS

LAYOUTS = ("direct", "haproxy", "haproxy + replica")
ENDPOINTS = ("list", "stats")


@attrs.frozen
class FleetCell:
    target: Target
    layout: str
    endpoint: str
    result: Measurement
    rounds: tuple[Measurement, ...]
    replica_share: float | None = None

    @property
    def broken(self) -> bool:
        return bool(self.result.errors or self.result.non200 or not self.result.requests)


@contextlib.contextmanager
def replicated_database(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """(primary URL, replica URL): a PostgreSQL of the part's own and its streaming replica,
    the run's data set loaded and replayed."""
    from storage.migrate import migrate
    from tests.local_postgres import LocalPostgres

    directory = Path(tempfile.mkdtemp(prefix="todo-fleet-"))
    directory.chmod(0o755)  # the servers run as another user
    primary = LocalPostgres(directory / "primary")
    replica = None
    try:
        migrate(primary.url())
        dataset.load(primary.url(), args.users, args.tasks_per_user, args.big_user_tasks)
        replica = LocalPostgres(directory / "replica", standby_of=primary)
        yield primary.url(), replica.url()
    finally:
        if replica is not None:
            replica.remove()
        primary.remove()
        shutil.rmtree(directory, ignore_errors=True)


def reads_by_source(port: int) -> dict[str, float]:
    """The workers' `todo_api_db_reads_total`, by source (any instance answers for its own)."""
    found = {"primary": 0.0, "replica": 0.0}
    for line in scrape_metrics(port).splitlines():
        for source in found:
            if line.startswith(f'todo_api_db_reads_total{{source="{source}"}}'):
                found[source] = float(line.split()[-1])
    return found


class Layout:
    """The instances of one layout, and where the clients connect."""

    def __init__(self, target: Target, layout: str, args: argparse.Namespace, env: dict[str, str],
                 workdir: Path) -> None:
        from tests.haproxy import HAProxy

        self.instances: list[Running] = []
        self.proxy: HAProxy | None = None
        try:
            if layout == "direct":
                self.instances.append(Running.start(target, args.workers, env, workdir, tag="fleet-direct"))
                self.port = self.instances[0].port
                return
            each = max(1, args.workers // 2)
            for number in (1, 2):
                self.instances.append(Running.start(target, each, env, workdir, tag=f"fleet-{number}"))
            self.proxy = HAProxy(*(instance.port for instance in self.instances))
            self.port = self.proxy.port
        except BaseException:
            self.stop()
            raise

    def reads(self) -> dict[str, float]:
        totals = {"primary": 0.0, "replica": 0.0}
        for instance in self.instances:  # each instance's metrics are its own workers'
            for source, value in reads_by_source(instance.port).items():
                totals[source] += value
        return totals

    def stop(self) -> None:
        """Stop all, printing what HAProxy said of its instances (an instance taken out of
        rotation under load is the first thing to look for when a proxied cell fails)."""
        if self.proxy is not None:
            for line in self.proxy.stop().splitlines():
                if "Server instances/" in line or "backend" in line.lower():
                    print(f"    haproxy: {line.strip()}", flush=True)
        for instance in self.instances:
            instance.stop()


def sweep(args: argparse.Namespace, sets: dict[str, Any], env: dict[str, str],
          workdir: Path) -> list[FleetCell]:
    import pytest

    from tests.haproxy import BINARIES
    from tests.system_packages import require

    try:
        require(BINARIES, "haproxy")
    except pytest.skip.Exception as missing:  # it says how to get haproxy
        print(f"[fleet] skipped: {missing}", flush=True)
        return []
    with replicated_database(args) as (primary, replica):
        return measured(args, sets, {**env, "DATABASE_URL": primary}, replica, workdir)


def measured(args: argparse.Namespace, sets: dict[str, Any], env: dict[str, str], replica: str,
             workdir: Path) -> list[FleetCell]:
    rounds: dict[tuple[Target, str, str], list[Measurement]] = {}
    shares: dict[tuple[Target, str, str], list[float]] = {}
    rounds_asked = 1 if args.short else args.rounds  # CI's short run: a smoke test of every layout
    for round_number in range(1, rounds_asked + 1):
        for framework in args.frameworks:
            target = Target(framework, FRONTENDS[framework].default_server, "api")
            for layout in LAYOUTS:
                print(f"[fleet round {round_number}/{rounds_asked}] {target.label}: {layout}", flush=True)
                layout_env = {**env, "DATABASE_REPLICA_URL": replica} if "replica" in layout else env
                running = Layout(target, layout, args, layout_env, workdir)
                try:
                    for endpoint in ENDPOINTS:
                        before = running.reads()
                        result = generators.measure_endpoint(running.port, endpoint, sets[endpoint],
                                                             args.connections, args.warmup, args.seconds)
                        after = running.reads()
                        rounds.setdefault((target, layout, endpoint), []).append(result)
                        from_replica = after["replica"] - before["replica"]
                        bodies = from_replica + after["primary"] - before["primary"]
                        if "replica" in layout and bodies:
                            shares.setdefault((target, layout, endpoint), []).append(from_replica / bodies)
                finally:
                    running.stop()
    cells = []
    for (target, layout, endpoint), each in rounds.items():
        share = shares.get((target, layout, endpoint))
        cells.append(FleetCell(target, layout, endpoint, report.median_round(each), tuple(each),
                               min(share) if share else None))
    return cells


def save(cells: list[FleetCell], out: Path, run: dict[str, Any]) -> str:
    lines = ["| app · server | endpoint | direct: req/s | HAProxy, 2 instances: req/s | "
             "+ replica: req/s | bodies from the replica |", "|---|---|---:|---:|---:|---:|"]
    keyed = {(c.target.label, c.endpoint, c.layout): c for c in cells}
    for label, endpoint in dict.fromkeys((c.target.label, c.endpoint) for c in cells):
        direct, proxied, replicated = (keyed[(label, endpoint, layout)] for layout in LAYOUTS)
        base = direct.result.rps
        share = "n/a" if replicated.replica_share is None else f"{replicated.replica_share:.0%}"
        lines.append(f"| {label} | {endpoint} | {base:,.0f} | {proxied.result.rps:,.0f} "
                     f"({proxied.result.rps / base:.2f}x) | {replicated.result.rps:,.0f} "
                     f"({replicated.result.rps / base:.2f}x) | {share} |")
    lines.append("\nSame workers in every layout (two instances of half as many); medians of interleaved "
                 "rounds; the replica's share is the lowest of the rounds'.")
    return report.save_part(out, "fleet", "\n".join(lines), [
        {"target": c.target.name, "layout": c.layout, "endpoint": c.endpoint, **attrs.asdict(c.result),
         "rps": c.result.rps, "replica_share": c.replica_share,
         "rounds_rps": [each.rps for each in c.rounds]}
        for c in cells
    ], run)
