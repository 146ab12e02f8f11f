"""The live part: event streams under load, what a team choosing sync or async needs.

For each frontend under its default server, on a direct connection (the watcher LISTENs)
and through PgBouncer in transaction mode (it polls), and for each number of subscribers:

- N subscribers, one user each, open a stream on a connection of their own. Past
  EVENTS_PER_WORKER_MAX a worker answers 503: those are counted as refused (a Flask
  stream holds a server thread, so Flask holds only the threads beyond its pool).
- A writer inserts tasks for random subscribed users at WRITES_PER_SECOND, straight
  through SQL, noting each write's revision and when it began. An event delivers every
  write of its user up to its revision: delivery latency is the event's arrival minus the
  write's start (the commit included), at p50 and p99. A write never delivered fails the run.
- Memory per subscriber: how much the workers grew from before the subscribers to after,
  over the streams held.
- Fan-out statements per second: the watchers' counter (`/metrics`) over the writing time.
  Listening needs none; polling one per worker per EVENTS_POLL_INTERVAL_SECONDS, whatever N.

The gate (pyproject.toml, `[tool.todo-api.bench.live]`): Quart's p99 at `subscribers`
streams stays within `quart_p99_ms`, on both paths.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import resource
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import psycopg

from benchmarks.load import dataset, report
from benchmarks.load.servers import Running, Target, scrape_metrics, tree_rss_kib
from todo_api.serve.frontends import FRONTENDS

WRITES_PER_SECOND = 50
CONNECTING_AT_ONCE = 200
EVENT = re.compile(rb"id: ([0-9]+)\nevent: revision\n")
PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


@attrs.frozen
class LiveCell:
    target: Target
    database: str  # "direct" or "PgBouncer"
    asked: int
    held: int
    refused: int
    failed: int
    writes: int
    undelivered: int
    p50_ms: float
    p99_ms: float
    kib_per_subscriber: float
    fanout_per_second: float

    @property
    def broken(self) -> bool:
        """A write never delivered, a stream that failed, or none held at all."""
        return self.undelivered > 0 or self.held == 0 or self.failed > 0


@attrs.frozen
class LiveGate:
    subscribers: int
    quart_p99_ms: float

    @classmethod
    def load(cls, path: Path = PYPROJECT) -> LiveGate:
        with path.open("rb") as file:
            return cls(**tomllib.load(file)["tool"]["todo-api"]["bench"]["live"])

    def breaches(self, cells: list[LiveCell]) -> list[str]:
        gated = [c for c in cells if c.target.framework == "quart" and c.asked == self.subscribers]
        return [f"live {c.target.label} {c.database}: p99 {c.p99_ms:.0f} ms at {c.held} streams, "
                f"over {self.quart_p99_ms:.0f} ms" for c in gated if not c.p99_ms <= self.quart_p99_ms]


class Subscribers:
    """The streams of one cell: opened, read for revisions, matched to the writes."""

    def __init__(self, port: int, secret: str) -> None:
        self.port, self.secret = port, secret
        self.held: list[str] = []
        self.refused = 0
        self.failed = 0
        """Connections refused, reset or closed before their first event."""
        self.pending: dict[str, list[tuple[int, float]]] = {}
        """Per user, the writes (revision, start) no event has delivered yet."""
        self.latencies: list[float] = []
        self.seen: dict[str, tuple[int, float]] = {}
        """Per user, the newest revision an event brought, and when it arrived (an event
        can arrive before the writer has noted the write it delivers)."""
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, users: list[str]) -> None:
        gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
        first_events = [asyncio.get_running_loop().create_future() for _ in users]

        async def one(user: str, first: asyncio.Future[None]) -> None:
            try:
                async with gate:
                    streams = await self._connect(user)
                if streams is not None:
                    await self._read(user, *streams, first)
            except OSError:
                self.failed += 1
            finally:
                if not first.done():
                    first.set_result(None)

        self.tasks = [asyncio.create_task(one(user, first))
                      for user, first in zip(users, first_events, strict=True)]
        await asyncio.wait_for(asyncio.gather(*first_events), timeout=120)

    async def _connect(self, user: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        token = dataset.token_for(user, self.secret)
        writer.write(f"GET /api/{user}/events HTTP/1.1\r\nHost: x\r\n"
                     f"Authorization: Bearer {token}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            self.refused += 1
            writer.close()
            return None
        self.held.append(user)
        return reader, writer

    async def _read(self, user: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    first: asyncio.Future[None]) -> None:
        buffered = b""
        try:
            while chunk := await reader.read(4096):
                arrived = time.monotonic()
                buffered += chunk
                found = list(EVENT.finditer(buffered))
                if found:
                    buffered = buffered[found[-1].end():]
                    if not first.done():
                        first.set_result(None)
                    self._delivered(user, max(int(event.group(1)) for event in found), arrived)
        finally:
            writer.close()

    def wrote(self, user: str, revision: int, started: float) -> None:
        seen, arrived = self.seen.get(user, (0, 0.0))
        if seen >= revision:
            self.latencies.append(arrived - started)
        else:
            self.pending.setdefault(user, []).append((revision, started))

    def _delivered(self, user: str, revision: int, arrived: float) -> None:
        self.seen[user] = (revision, arrived)
        waiting = self.pending.get(user, [])
        self.latencies += [arrived - started for written, started in waiting if written <= revision]
        self.pending[user] = [(written, started) for written, started in waiting if written > revision]

    def undelivered(self) -> int:
        return sum(len(waiting) for waiting in self.pending.values())

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def write_for(subscribers: Subscribers, conninfo: str, seconds: float) -> int:
    """Tasks for random subscribed users, WRITES_PER_SECOND, each noted before it is sent."""
    written = 0
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        ends = time.monotonic() + seconds
        while (now := time.monotonic()) < ends:
            user = random.choice(subscribers.held)
            cursor = await conn.execute(
                'INSERT INTO tasks ("userId", title, priority, category) VALUES (%s, %s, %s, %s) '
                "RETURNING revision", (user, "live", "low", "work"))
            (revision,) = await cursor.fetchone() or (0,)
            subscribers.wrote(user, revision, now)
            written += 1
            await asyncio.sleep(max(0.0, now + 1 / WRITES_PER_SECOND - time.monotonic()))
    return written


def fanout_statements(port: int) -> float:
    text = scrape_metrics(port)
    found = re.search(r"^todo_api_event_fanout_statements_total ([0-9.e+]+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


async def measure_cell(server: Running, workers: int, database: str, count: int, secret: str,
                       writer_conninfo: str, seconds: float) -> LiveCell:
    users = [f"live-{database}-{count}-{n}" for n in range(count)]
    before = tree_rss_kib(server.process.pid)
    subscribers = Subscribers(server.port, secret)
    await subscribers.open(users)
    try:
        grown = tree_rss_kib(server.process.pid) - before
        listening = time.monotonic() + 30  # each worker's watcher has connected: its first catch-up ran
        while fanout_statements(server.port) < workers and time.monotonic() < listening:
            await asyncio.sleep(0.05)
        statements = fanout_statements(server.port)
        started = time.monotonic()
        writes = await write_for(subscribers, writer_conninfo, seconds)
        fanout = (fanout_statements(server.port) - statements) / (time.monotonic() - started)
        deadline = time.monotonic() + 5  # the last writes' events
        while subscribers.undelivered() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        await subscribers.close()
    held = len(subscribers.held)
    milliseconds = [latency * 1000 for latency in subscribers.latencies]
    return LiveCell(server.target, database, count, held, subscribers.refused, subscribers.failed, writes,
                    subscribers.undelivered(),
                    percentile(milliseconds, 0.5), percentile(milliseconds, 0.99),
                    grown / held if held else 0.0, fanout)


FILES_BESIDES_STREAMS = 1024


def streams_allowed(wanted: int) -> int:
    """As many of `wanted` streams as open files allow, the limit raised as far as it goes:
    each stream is a connection here and one in the server (which inherits the limit)."""
    needed = 2 * wanted + FILES_BESIDES_STREAMS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return wanted if soft == resource.RLIM_INFINITY else min(wanted, (soft - FILES_BESIDES_STREAMS) // 2)


def sweep(args: argparse.Namespace, databases: dict[str, str], writer_conninfo: str, env: dict[str, str],
          secret: str, workdir: Path, progress: Callable[[str], None] = print) -> list[LiveCell]:
    """`databases` maps "direct" and "PgBouncer" to the servers' DATABASE_URL."""
    allowed = streams_allowed(max(args.live_subscribers))
    counts = sorted({min(count, allowed) for count in args.live_subscribers})
    if counts != sorted(args.live_subscribers):
        progress(f"[live] open files allow {allowed} streams: measuring {counts}")
    cells: list[LiveCell] = []
    for framework in args.frameworks:
        target = Target(framework, FRONTENDS[framework].default_server, "api")
        for database, url in databases.items():
            for count in counts:
                server = Running.start(target, args.workers, {**env, "DATABASE_URL": url}, workdir,
                                       tag=f"live-{database}-{count}")
                try:
                    cell = asyncio.run(measure_cell(server, args.workers, database, count, secret,
                                                    writer_conninfo, args.seconds))
                finally:
                    server.stop()
                progress(f"[live] {target.label} {database} {count} asked: held {cell.held}, "
                         f"p50 {cell.p50_ms:.1f} ms, p99 {cell.p99_ms:.1f} ms, "
                         f"{cell.kib_per_subscriber:.1f} KiB each, {cell.fanout_per_second:.1f} statements/s")
                cells.append(cell)
    return cells


def save(cells: list[LiveCell], out: Path, run: dict[str, Any]) -> str:
    lines = [
        "| app · server | database | streams asked | held | refused (503) | delivery p50 | p99 "
        "| memory per stream | fan-out statements/s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        lines.append(f"| {c.target.label} | {c.database} | {c.asked:,} | {c.held:,} | {c.refused:,} "
                     f"| {c.p50_ms:.1f} ms | {c.p99_ms:.1f} ms | {c.kib_per_subscriber:.1f} KiB "
                     f"| {c.fanout_per_second:.1f} |")
    lines.append(f"\nA writer inserts {WRITES_PER_SECOND} tasks a second for random subscribed users, "
                 "through SQL; delivery is from the write's start to the event's arrival. "
                 f"{sum(c.writes for c in cells):,} writes, {sum(c.undelivered for c in cells)} undelivered.")
    return report.save_part(out, "live", "\n".join(lines), [
        {**attrs.asdict(c), "target": c.target.name} for c in cells
    ], run)
