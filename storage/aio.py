"""Running plans on an async psycopg pool, for the async (ASGI) frontend.

The twin of `storage.sync`: the same steps, with `await` where I/O happens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import psycopg
from psycopg_pool import AsyncConnectionPool

from core.http import Response
from core.keys import FetchedKeys, FetchKeys
from core.plan import Plan, Query, Rows, StorageFailure
from storage.failures import UNREACHABLE, storage_failure
from storage.pool_options import pool_options
from storage.stepping import advance

KeyFetcher = Callable[[FetchKeys], Awaitable[FetchedKeys]]


async def open_pool(
    conninfo: str, min_size: int = 1, max_size: int = 10, timeout: float = 5.0
) -> AsyncConnectionPool:
    """A pool that opens in the background: start-up does not wait for the database."""
    pool = AsyncConnectionPool(conninfo, **pool_options(min_size, max_size, timeout))
    await pool.open(wait=False)
    return pool


async def execute(conn: psycopg.AsyncConnection, query: Query) -> Rows | StorageFailure:
    try:
        cursor = await conn.execute(query.sql, query.params)
        return await cursor.fetchall()
    except psycopg.Error as error:
        return storage_failure(error)


async def run(plan: Plan, pool: AsyncConnectionPool, fetch_keys: KeyFetcher) -> Response:
    """Keys are fetched before a connection is taken: no connection waits on HTTP."""
    step = advance(plan, None)
    while isinstance(step, FetchKeys):
        step = advance(plan, await fetch_keys(step))
    if isinstance(step, Response):
        return step
    try:
        async with pool.connection() as conn:
            while isinstance(step, Query):
                step = advance(plan, await execute(conn, step))
    except UNREACHABLE as error:
        if isinstance(step, Query):
            step = advance(plan, storage_failure(error))
    assert isinstance(step, Response), "a plan asks for keys before any query"
    return step
