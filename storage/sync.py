"""Running plans on a psycopg connection pool, for the sync (WSGI) frontend.

A plan that answers without the database (401, 404, 422, /health) never checks out a
connection. Connections run in autocommit: every plan statement is atomic on its own,
so a BEGIN/COMMIT round trip would be pure overhead.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from psycopg_pool import ConnectionPool

from core.http import Response
from core.keys import FetchedKeys, FetchKeys
from core.plan import Plan, Query, Rows, StorageFailure
from storage.failures import UNREACHABLE, storage_failure
from storage.pool_options import pool_options
from storage.stepping import advance

KeyFetcher = Callable[[FetchKeys], FetchedKeys]


def open_pool(conninfo: str, min_size: int = 1, max_size: int = 10, timeout: float = 5.0) -> ConnectionPool:
    """A pool that opens in the background: start-up does not wait for the database."""
    pool = ConnectionPool(conninfo, **pool_options(min_size, max_size, timeout))
    pool.open(wait=False)
    return pool


def execute(conn: psycopg.Connection, query: Query) -> Rows | StorageFailure:
    try:
        return conn.execute(query.sql, query.params).fetchall()
    except psycopg.Error as error:
        return storage_failure(error)


def run(plan: Plan, pool: ConnectionPool, fetch_keys: KeyFetcher) -> Response:
    """Keys are fetched before a connection is taken: no connection waits on HTTP."""
    step = advance(plan, None)
    while isinstance(step, FetchKeys):
        step = advance(plan, fetch_keys(step))
    if isinstance(step, Response):
        return step
    try:
        with pool.connection() as conn:
            while isinstance(step, Query):
                step = advance(plan, execute(conn, step))
    except UNREACHABLE as error:
        if isinstance(step, Query):
            step = advance(plan, storage_failure(error))
    assert isinstance(step, Response), "a plan asks for keys before any query"
    return step
