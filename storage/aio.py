"""Running plans on an async psycopg pool, for the async (ASGI) frontend.

The twin of `storage.sync`: the same steps, with `await` where I/O happens, and the same
watchdog for the statement timeout (its thread cancels a statement of either kind of
connection; `asyncio.timeout` would leave it to psycopg, which waits 5 s for the cancel and
5 s more for the statement when the network is gone).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg_pool import AsyncConnectionPool

from core.http import Response
from core.plan import (
    AsyncBodyReader,
    AsyncDriver,
    AsyncKeyFetcher,
    CollectMetrics,
    FetchKeys,
    MetricsCollector,
    Plan,
    Query,
    ReadBody,
    Rows,
    StorageFailure,
    Stream,
    Subscribe,
    advance,
    final_response,
    no_metrics,
)
from storage.failures import UNREACHABLE, storage_failure
from storage.options import (
    DEFAULT_OPTIONS,
    REAL_BACKEND_PID,
    DatabaseOptions,
    DatabaseUsage,
    LentConnections,
    auto_prepare_threshold,
    hung_up,
    pool_arguments,
    pool_usage,
)
from storage.watch_aio import StreamChunks, Watcher
from storage.watchdog import Watchdog


class Database:
    """The pool of one server process, with its statement timeout."""

    def __init__(self, conninfo: str, options: DatabaseOptions = DEFAULT_OPTIONS) -> None:
        self.options = options
        self.pool = AsyncConnectionPool(configure=self._configure, **pool_arguments(conninfo, options))
        self.watchdog = Watchdog(options.statement_timeout)
        self.lent = LentConnections()
        self.watcher = Watcher(conninfo, options)  # started by the first event stream

    async def open(self) -> Database:
        """Opens in the background: start-up does not wait for the database."""
        await self.pool.open(wait=False)
        self.watchdog.start()
        return self

    async def close(self) -> None:
        await self.watcher.stop()
        self.watchdog.stop()
        await self.pool.close()

    async def _configure(self, conn: psycopg.AsyncConnection) -> None:
        if self.options.prepared_statements == "auto":
            cursor = await conn.execute(REAL_BACKEND_PID)
            (real_pid,) = await cursor.fetchone() or (None,)
            conn.prepare_threshold = auto_prepare_threshold(conn.info.backend_pid, real_pid)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """A pooled connection the server has not hung up on (closed ones are dropped, not retried)."""
        for _ in range(self.options.max_size + 1):
            async with self.pool.connection() as conn:
                if not hung_up(conn.pgconn):
                    with self.lent:
                        yield conn
                    return
                await conn.close()  # the pool replaces it
        raise psycopg.OperationalError("every pooled connection had been closed by the server")

    def stream(self, stream: Stream) -> StreamChunks:
        """A streamed answer's bytes as they come, woken by the process's watcher."""
        return StreamChunks(stream)

    def usage(self) -> DatabaseUsage:
        watcher = self.watcher
        return pool_usage(self.pool.get_stats(), self.lent, watcher.board.total, watcher.statements,
                          watcher.mode == "poll")

    async def execute(self, conn: psycopg.AsyncConnection, query: Query) -> Rows | StorageFailure:
        try:
            with self.watchdog.watch(conn):
                cursor = await conn.execute(query.sql, query.params)
                return await cursor.fetchall()
        except psycopg.Error as error:
            return storage_failure(error)

    async def run(self, plan: Plan, *, fetch_keys: AsyncKeyFetcher, read_body: AsyncBodyReader,
                  collect_metrics: MetricsCollector = no_metrics) -> Response:
        """Keys and the body are fetched before a connection is taken: no connection
        waits on HTTP, neither the issuer's nor a slow client's."""
        step = advance(plan, None)
        while isinstance(step, FetchKeys | ReadBody | CollectMetrics | Subscribe):
            if isinstance(step, Subscribe):
                step = advance(plan, self.watcher.subscribe(step.user_id, step.per_user, step.per_worker))
            elif isinstance(step, FetchKeys):
                step = advance(plan, await fetch_keys(step))
            elif isinstance(step, ReadBody):
                step = advance(plan, await read_body(step.max_bytes))
            else:
                step = advance(plan, collect_metrics())  # a few small files: no thread needed
        if isinstance(step, Response):
            return step
        try:
            async with self.connection() as conn:
                while isinstance(step, Query):
                    step = advance(plan, await self.execute(conn, step))
        except UNREACHABLE as error:
            if isinstance(step, Query):
                step = advance(plan, storage_failure(error))
        return final_response(step)


_: type[AsyncDriver] = Database  # mypy checks the contract in core.plan
