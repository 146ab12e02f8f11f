"""How many connections the database behind a URL accepts, so `serve` can warn before it runs out."""

from __future__ import annotations

import psycopg

from storage.options import behind_a_pooler, named

LIMITS = (
    "SELECT pg_backend_pid(), current_setting('max_connections')::int"
    " - current_setting('superuser_reserved_connections')::int"
)


def connections_available(conninfo: str) -> int | None:
    """PostgreSQL's connection limit for ordinary roles when the URL reaches it directly; None
    behind a pooler, where the pooler's own (much larger) client limit applies instead."""
    named_sizing = named(conninfo, "sizing")
    with psycopg.connect(conninfo, autocommit=True, prepare_threshold=None, **named_sizing) as conn:
        real_pid, limit = conn.execute(LIMITS).fetchone() or (None, None)
        return None if real_pid is None or behind_a_pooler(conn.info.backend_pid, real_pid) else limit
