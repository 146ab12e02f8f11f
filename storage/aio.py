"""Running plans on an async psycopg pool, for the async (ASGI) frontend.

The twin of `storage.sync`: the same steps, with `await` where I/O happens, and the same
watchdog for the statement timeout (its thread cancels a statement of either kind of
connection; `asyncio.timeout` would leave it to psycopg, which waits 5 s for the cancel and
5 s more for the statement when the network is gone).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

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
from storage.availability import Availability, DatabaseDown, waits
from storage.failures import UNREACHABLE, storage_failure
from storage.options import (
    DEFAULT_OPTIONS,
    REAL_BACKEND_PID,
    WAIT_SLICE_SECONDS,
    DatabaseOptions,
    DatabaseUsage,
    LentConnections,
    auto_prepare_threshold,
    connect_arguments,
    hung_up,
    pool_arguments,
    pool_usage,
)
from storage.watch_aio import StreamChunks, Watcher
from storage.watchdog import Watchdog


class Pool:
    """The connections to one server (the primary, or the read replica), and whether it is
    known to be unreachable."""

    def __init__(self, conninfo: str, options: DatabaseOptions, watchdog: Watchdog) -> None:
        self.options = options
        self.pool = AsyncConnectionPool(configure=self._configure, reconnect_failed=self._connect_failed,
                                    **pool_arguments(conninfo, options))
        self.watchdog = watchdog
        self.availability = Availability(conninfo, connect_arguments(conninfo, options), watchdog.watch,
                                         options.probe_first_delay, options.probe_max_delay)
        self.lent = LentConnections()
        self.reads = 0
        """Bodies this server answered (`Query.body_read`)."""

    async def open(self) -> None:
        await self.pool.open(wait=False)

    async def close(self) -> None:
        self.availability.stop()
        await self.pool.close()

    async def _configure(self, conn: psycopg.AsyncConnection) -> None:
        if self.options.prepared_statements == "auto":
            cursor = await conn.execute(REAL_BACKEND_PID)
            (real_pid,) = await cursor.fetchone() or (None,)
            conn.prepare_threshold = auto_prepare_threshold(conn.info.backend_pid, real_pid)

    def _connect_failed(self, pool: object) -> None:
        """The pool's connection attempts failed (it tries twice, then leaves retrying to the probe)."""
        self.availability.lost("no connection could be opened")

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """A pooled connection the server has not hung up on (closed ones are dropped, not retried).
        While the server is known down, or goes down as this waits: DatabaseDown at once."""
        deadline = time.monotonic() + self.options.pool_timeout
        for _ in range(self.options.max_size + 1):
            conn = await self.checkout(deadline)
            try:
                if not hung_up(conn.pgconn):
                    with self.lent:
                        yield conn
                    return
                await conn.close()  # the pool replaces it
            finally:
                await self.pool.putconn(conn)
        raise psycopg.OperationalError("every pooled connection had been closed by the server")

    async def checkout(self, deadline: float) -> psycopg.AsyncConnection:
        for wait in waits(deadline, WAIT_SLICE_SECONDS):
            if self.availability.down:
                raise DatabaseDown("the database is unreachable; waiting for it to come back")
            try:
                conn: psycopg.AsyncConnection = await self.pool.getconn(timeout=wait)
                return conn
            except PoolTimeout:
                continue
        raise PoolTimeout(f"no connection was free within {self.options.pool_timeout:g} s")

    def unreachable(self, error: Exception) -> StorageFailure:
        if not isinstance(error, PoolTimeout):
            self.availability.failed(error)
        return storage_failure(error)

    async def execute(self, conn: psycopg.AsyncConnection, query: Query) -> Rows | StorageFailure:
        try:
            with self.watchdog.watch(conn):
                cursor = await conn.execute(query.sql, query.params)
                rows = await cursor.fetchall()
        except psycopg.Error as error:
            self.availability.failed(error)
            return storage_failure(error)
        self.reads += query.body_read
        return rows


class Database:
    """The pools of one server process (the primary's, and the replica's when DATABASE_REPLICA_URL
    names one), with their statement timeout, and the process's event watcher."""

    def __init__(self, conninfo: str, options: DatabaseOptions = DEFAULT_OPTIONS) -> None:
        self.options = options
        self.watchdog = Watchdog(options.statement_timeout)
        self.primary = Pool(conninfo, options, self.watchdog)
        self.replica = Pool(options.replica_url, options, self.watchdog) if options.replica_url else None
        self.watcher = Watcher(conninfo, options)  # started by the first event stream

    async def open(self) -> Database:
        """Opens in the background: start-up does not wait for the database."""
        await self.primary.open()
        if self.replica is not None:
            await self.replica.open()
        self.watchdog.start()
        return self

    async def close(self) -> None:
        await self.watcher.stop()
        self.watchdog.stop()
        await self.primary.close()
        if self.replica is not None:
            await self.replica.close()

    def connection(self) -> AbstractAsyncContextManager[psycopg.AsyncConnection]:
        """A connection to the primary, as a request gets one."""
        return self.primary.connection()

    def stream(self, stream: Stream) -> StreamChunks:
        """A streamed answer's bytes as they come, woken by the process's watcher."""
        return StreamChunks(stream)

    def usage(self) -> DatabaseUsage:
        watcher, primary, replica = self.watcher, self.primary, self.replica
        return pool_usage(primary.pool.get_stats(), primary.lent, watcher.board.total, watcher.statements,
                          watcher.mode == "poll", primary.reads, replica.reads if replica else 0)

    async def answer(self, query: Query, lent: dict[Pool, psycopg.AsyncConnection],
                     held: AsyncExitStack) -> Rows | StorageFailure:
        """The query's rows from the server it asks for (the replica only when one is set), on
        the connection this request holds there, taken at its first query there."""
        pool = self.replica if query.on == "replica" and self.replica is not None else self.primary
        conn = lent.get(pool)
        if conn is None:
            try:
                conn = lent[pool] = await held.enter_async_context(pool.connection())
            except UNREACHABLE as error:
                return pool.unreachable(error)
        return await pool.execute(conn, query)

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
        async with AsyncExitStack() as held:
            lent: dict[Pool, psycopg.AsyncConnection] = {}
            while isinstance(step, Query):
                step = advance(plan, await self.answer(step, lent, held))
        return final_response(step)


_: type[AsyncDriver] = Database  # mypy checks the contract in core.plan
