"""Every statement the API sends names its tenant: the invariant that makes each request a
single-shard one under Citus, distributed by user (docs/scaling.md).

The suite's embedded PostgreSQL logs every statement with its connection's application
name (`log_statement = all`); when the session ends, every statement a `todo-api`
connection sent that touches a per-user table must hold an equality on `"userId"` for each
table it reads or writes (an INSERT: `"userId"` among its columns). Aside, by name:
migrations (`todo-api migrate`), `serve`'s sizing check, and the statements in `EXEMPT`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import psycopg

from core import queries
from storage.options import APPLICATION_NAME

PER_USER_TABLES = ("tasks", "task_counts", "task_revisions", "task_tombstones", "idempotency_keys")
REFERENCE = re.compile(r"\b(FROM|JOIN|UPDATE|INTO)\s+(" + "|".join(PER_USER_TABLES) + r")\b", re.I)
TENANT = re.compile(r'"userId"\s*=\s*\$\d+')
INSERT_COLUMNS = re.compile(r"\bINSERT\s+INTO\s+\w+\s*\(([^)]*)\)", re.I)
LOGGED = re.compile(r"^(?P<app>[^|\n]*)\|LOG:  (?:statement|execute [^:]*): (?P<sql>.*)$")
PREFIX = "%a|"

EXEMPT = {
    "the event watcher's poll of the users it streams to (a multi-shard read under Citus: use "
    "EVENTS_FANOUT=listen there)": queries.revisions_of(["a"]).sql,
}
"""Statements allowed to touch per-user tables across users, each with why."""


def placeholders(sql: str) -> str:
    """A statement as psycopg writes it (`%s`) from the server's form (`$1`)."""
    return re.sub(r"\$\d+", "%s", sql)


def log_every_statement(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET log_statement = 'all'")
        conn.execute(f"ALTER SYSTEM SET log_line_prefix = '{PREFIX}'")
        conn.execute("SELECT pg_reload_conf()")


def sent_by_the_api(log: Path) -> set[str]:
    """The distinct statements `todo-api` connections sent (requests, the probe, the watcher)."""
    found: set[str] = set()
    with log.open(errors="replace") as lines:
        for line in lines:
            match = LOGGED.match(line.rstrip("\n"))
            if match and match["app"] == APPLICATION_NAME:
                found.add(match["sql"])
    return found


def untenanted(statements: Iterable[str]) -> list[str]:
    """The statements that touch a per-user table without naming the user for each reference."""
    exempt = set(EXEMPT.values())
    wrong = []
    for sql in statements:
        references = REFERENCE.findall(sql)
        if not references or placeholders(sql) in exempt:
            continue
        named = len(TENANT.findall(sql))
        named += sum('"userId"' in columns for columns in INSERT_COLUMNS.findall(sql))
        if named < len(references):
            wrong.append(sql)
    return sorted(wrong)
