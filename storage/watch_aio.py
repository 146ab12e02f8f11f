"""The async watcher (storage.fanout): one task per process, and the streams it wakes.

Each event stream is a coroutine waiting on an Event that the watcher's task sets: a
thousand streams cost a thousand small objects, not a thousand threads. The twin of
`storage.watch_sync`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import psycopg

from core.plan import AwaitRevision, Emit, Stream, SubscriberLimit, advance_stream
from core.queries import LISTEN_FOR_CHANGES, revisions_of
from storage.fanout import (
    NOTIFIES_WAIT_SECONDS,
    STOP_CHECK_SECONDS,
    Board,
    Mode,
    chosen_mode,
    connection_arguments,
    notified,
    reconnect_delay,
    revisions,
    told_to_stop,
)
from storage.options import REAL_BACKEND_PID, DatabaseOptions

log = logging.getLogger("todo_api.events")


class Subscription:
    """One stream's registration: woken by the watcher when its user's revision moves."""

    def __init__(self, watcher: Watcher, user_id: str) -> None:
        self.watcher = watcher
        self.user_id = user_id
        self.moved = asyncio.Event()

    async def wait(self, after: int, timeout: float) -> int | None:
        """The user's newest revision once it passes `after`, or when `timeout` runs out;
        None once the server is stopping."""
        latest = self.watcher.board.latest(self.user_id)
        if latest <= after and not self.watcher.stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.moved.wait()
            self.moved.clear()
            latest = self.watcher.board.latest(self.user_id)
        return None if self.watcher.stopping else latest

    def close(self) -> None:
        self.watcher.board.leave(self.user_id, self)


class Watcher:
    """The process's one watcher: a task on the serving loop, started by the first subscription."""

    def __init__(self, conninfo: str, options: DatabaseOptions) -> None:
        self.conninfo = conninfo
        self.options = options
        self.board: Board[Subscription] = Board()
        self.mode: Mode | None = None
        self.statements = 0
        """Run so far: a catch-up after each (re)connection, and each poll."""
        self.stopping = False
        """The server is stopping: every stream ends."""
        self._tasks: list[asyncio.Task[None]] = []

    def subscribe(self, user_id: str, per_user: int, per_worker: int) -> Subscription | SubscriberLimit:
        subscription = Subscription(self, user_id)
        refused = self.board.join(user_id, subscription, per_user, per_worker)
        if refused is None and not self._tasks:
            loop = asyncio.get_running_loop()
            self._tasks = [loop.create_task(self._run(), name="todo-api-watcher"),
                           loop.create_task(self._watch_for_stop(), name="todo-api-stop")]
        return refused or subscription

    async def stop(self) -> None:
        self._end_streams()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _end_streams(self) -> None:
        self.stopping = True
        for subscription in self.board.everyone():
            subscription.moved.set()

    async def _watch_for_stop(self) -> None:
        while not told_to_stop(self.options.stop_file):
            await asyncio.sleep(STOP_CHECK_SECONDS)
        self._end_streams()

    def _seen(self, changes: list[tuple[str, int]]) -> None:
        for subscription in self.board.seen(changes):
            subscription.moved.set()

    async def _catch_up(self, conn: psycopg.AsyncConnection) -> None:
        users = self.board.users()
        if users:
            query = revisions_of(users)
            self.statements += 1
            cursor = await conn.execute(query.sql, query.params)
            self._seen(revisions(await cursor.fetchall()))

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                arguments = connection_arguments(self.conninfo, self.options.connect_timeout)
                connecting = psycopg.AsyncConnection.connect(**arguments)
                async with await connecting as conn:
                    failures = 0
                    await self._watch(conn)
            except psycopg.Error as error:
                failures += 1
                if failures == 1:
                    log.warning("event watcher lost the database, reconnecting: %s", error)
                await asyncio.sleep(reconnect_delay(failures))

    async def _watch(self, conn: psycopg.AsyncConnection) -> None:
        cursor = await conn.execute(REAL_BACKEND_PID)
        (real_pid,) = await cursor.fetchone() or (0,)
        self.mode = chosen_mode(self.options.fanout, conn.info.backend_pid, real_pid)
        if self.mode == "listen":
            await conn.execute(LISTEN_FOR_CHANGES.sql)
        await self._catch_up(conn)  # what changed while it was away, or before it listened
        while True:
            if self.mode == "listen":
                async for note in conn.notifies(timeout=NOTIFIES_WAIT_SECONDS):
                    self._seen(notified([note.payload]))
            else:
                await asyncio.sleep(self.options.poll_interval)
                await self._catch_up(conn)


class StreamChunks(AsyncIterator[bytes]):
    """A stream's bytes, for an ASGI frontend to send as they come. `aclose` (Quart calls
    it however the answer ended; the direct path too) ends the stream and its subscription."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.subscription: Subscription = stream.subscription  # type: ignore[assignment]  # this module's
        self._reply: int | None = None

    async def __anext__(self) -> bytes:
        while True:
            step = advance_stream(self.stream.plan, self._reply)
            if isinstance(step, Emit):
                self._reply = None
                return step.data
            if isinstance(step, AwaitRevision):
                self._reply = await self.subscription.wait(step.after, step.timeout)
                continue
            await self.aclose()
            raise StopAsyncIteration

    async def aclose(self) -> None:
        self.stream.plan.close()
        self.stream.subscription.close()
