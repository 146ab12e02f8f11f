"""The counts part: what the Citus recipe's row-level count triggers cost on plain PostgreSQL.

Migration 0002 keeps the stats' counters with statement-level triggers over transition
tables, which Citus does not run on distributed tables; docs/recipes/row_level_counts.sql
keeps the same numbers a row at a time. Each kind gets a database of its own on the run's
PostgreSQL, and the same writes, in interleaved rounds: 8 connections, each cycling through
its own users with the API's own statements (create, toggle, change the priority, delete),
so that the choice for Citus is made on numbers (docs/scaling.md).
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import psycopg
from psycopg.conninfo import make_conninfo

from benchmarks.load import report
from core import queries
from core.tasks import validate_create, validate_update

RECIPE = Path(__file__).parents[2] / "docs" / "recipes" / "row_level_counts.sql"
KINDS = ("statement-level (0002)", "row-level (Citus recipe)")
CONNECTIONS = 8
CREATE = validate_create(b'{"title": "t", "priority": "low", "category": "work"}')
TO_HIGH = validate_update(b'{"priority": "high"}')


@attrs.frozen
class CountsCell:
    kind: str
    writes_per_second: float
    rounds: tuple[float, ...]


@contextmanager
def databases(server_url: str) -> Iterator[dict[str, str]]:
    """A migrated database per kind of trigger, dropped at the end."""
    from storage.migrate import migrate

    names = {kind: f"todo_counts_{uuid.uuid4().hex[:8]}" for kind in KINDS}
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in names.values():
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        urls = {kind: make_conninfo(server_url, dbname=name) for kind, name in names.items()}
        for kind, url in urls.items():
            migrate(url)
            if kind.startswith("row"):
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(RECIPE.read_text())
        yield urls
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            for name in names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_for(url: str, seconds: float) -> float:
    """Writes per second of CONNECTIONS connections, each cycling create, toggle, priority, delete."""
    stop_at = time.monotonic() + seconds
    done = [0] * CONNECTIONS

    def writer(number: int) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            users = [f"counts-{number}-{each}" for each in range(20)]
            turn = 0
            while time.monotonic() < stop_at:
                user = users[turn % len(users)]
                turn += 1
                create = queries.create_task(user, CREATE, 10_000)
                task = uuid.UUID(conn.execute(create.sql, create.params).fetchone()[0])  # type: ignore[index]
                for query in (queries.toggle_task(user, task), queries.update_task(user, task, TO_HIGH),
                              queries.delete_task(user, task)):
                    conn.execute(query.sql, query.params).fetchall()
                done[number] += 4

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(CONNECTIONS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - began)


def sweep(args: argparse.Namespace, server_url: str) -> list[CountsCell]:
    measured: dict[str, list[float]] = {kind: [] for kind in KINDS}
    with databases(server_url) as urls:
        for round_number in range(1, args.rounds + 1):
            for kind, url in urls.items():
                write_for(url, args.warmup)
                rate = write_for(url, args.seconds)
                measured[kind].append(rate)
                print(f"[counts round {round_number}/{args.rounds}] {kind:26} {rate:8,.0f} writes/s",
                      flush=True)
    return [CountsCell(kind, sorted(rates)[(len(rates) - 1) // 2], tuple(rates))
            for kind, rates in measured.items()]


def save(cells: list[CountsCell], out: Path, run: dict[str, Any]) -> str:
    base = cells[0].writes_per_second
    lines = ["| stats counters kept by | writes/s (median) | rounds | against 0002 |", "|---|---:|---|---:|"]
    for cell in cells:
        rounds = ", ".join(f"{rate:,.0f}" for rate in cell.rounds)
        lines.append(f"| {cell.kind} | {cell.writes_per_second:,.0f} | {rounds} | "
                     f"{cell.writes_per_second / base:.2f}x |")
    lines.append(f"\n{CONNECTIONS} connections, each cycling create, toggle, priority change, delete "
                 "(4 writes) with the API's statements; interleaved rounds, the lower middle round.")
    return report.save_part(out, "counts", "\n".join(lines),
                            [{"kind": c.kind, "writes_per_second": c.writes_per_second,
                              "rounds": list(c.rounds)} for c in cells], run)
