"""Versioned SQL migrations, applied in one transaction under an advisory lock.

Several workers starting at once all call `migrate`: the transaction-scoped lock makes
them queue, the first applies what is pending, the others find nothing left to do. A
transaction-scoped lock (not a session one) also works through PgBouncer, and no statement
is prepared (a prepared statement would outlive the transaction on a pooled server session).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import attrs
import psycopg

from core.logsafe import quoted
from storage.options import named

log = logging.getLogger("todo_api")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LOCK_KEY = 0x70D0A1  # any constant bigint shared by every todo-api process
VERSIONED = re.compile(r"(\d{4})_(\w+)\.sql")

CREATE_HISTORY = """
CREATE TABLE IF NOT EXISTS todo_api_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@attrs.frozen(slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in directory.glob("*.sql"):
        match = VERSIONED.fullmatch(path.name)
        if match:
            found.append(Migration(int(match[1]), match[2], path.read_text()))
    return sorted(found, key=lambda m: m.version)


def migrate(conninfo: str, up_to: int | None = None) -> list[str]:
    """Apply pending migrations (up to version `up_to`); return the names applied by this call."""
    applied_now: list[str] = []
    connecting = psycopg.connect(conninfo, prepare_threshold=None, **named(conninfo, "migrate"))
    with connecting as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute(CREATE_HISTORY)
        done = {row[0] for row in conn.execute("SELECT version FROM todo_api_migrations")}
        for migration in load_migrations():
            if migration.version in done or (up_to is not None and migration.version > up_to):
                continue
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO todo_api_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied_now.append(f"{migration.version:04d}_{migration.name}")
        conn.execute((MIGRATIONS_DIR / "link_user_table.sql").read_bytes())
    return applied_now


def migrate_or_log(conninfo: str) -> bool:
    """`migrate`, for a server that must keep answering (503s) while its database is
    down: a failure is logged, not raised; False says to try again later."""
    try:
        migrate(conninfo)
    except psycopg.Error as error:
        log.warning("migrations could not run, tried again on the next request: %s", quoted(str(error)))
        return False
    return True
