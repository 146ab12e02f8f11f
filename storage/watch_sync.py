"""The sync watcher (storage.fanout): one thread per process, and the streams it wakes.

Each event stream holds a server thread while it waits (WSGI has no other way to send
later): `Subscription.wait` blocks it on an Event that the watcher's thread sets. The
twin of `storage.watch_aio`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import psycopg

from core.plan import AwaitRevision, Emit, Stream, SubscriberLimit, advance_stream
from core.queries import LISTEN_FOR_CHANGES, revisions_of
from storage.fanout import (
    NOTIFIES_WAIT_SECONDS,
    Board,
    Mode,
    chosen_mode,
    connection_arguments,
    notified,
    reconnect_delay,
    revisions,
)
from storage.options import REAL_BACKEND_PID, DatabaseOptions

log = logging.getLogger("todo_api.events")


class Subscription:
    """One stream's registration: woken by the watcher when its user's revision moves."""

    def __init__(self, watcher: Watcher, user_id: str) -> None:
        self.watcher = watcher
        self.user_id = user_id
        self.moved = threading.Event()

    def wait(self, after: int, timeout: float) -> int:
        """The user's newest revision once it passes `after`, or when `timeout` runs out."""
        latest = self.watcher.latest(self.user_id)
        if latest <= after:
            self.moved.wait(timeout)
            self.moved.clear()  # a change after this is read below, or wakes the next wait
            latest = self.watcher.latest(self.user_id)
        return latest

    def close(self) -> None:
        self.watcher.leave(self)


class Watcher:
    """The process's one watcher: a thread started by the first subscription."""

    def __init__(self, conninfo: str, options: DatabaseOptions) -> None:
        self.conninfo = conninfo
        self.options = options
        self.board: Board[Subscription] = Board()
        self.mode: Mode | None = None
        self.statements = 0
        """Run so far: a catch-up after each (re)connection, and each poll."""
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, user_id: str, per_user: int, per_worker: int) -> Subscription | SubscriberLimit:
        subscription = Subscription(self, user_id)
        with self._lock:
            refused = self.board.join(user_id, subscription, per_user, per_worker)
            if refused is None and self._thread is None:
                self._thread = threading.Thread(target=self._run, name="todo-api-watcher", daemon=True)
                self._thread.start()
        return refused or subscription

    def leave(self, subscription: Subscription) -> None:
        with self._lock:
            self.board.leave(subscription.user_id, subscription)

    def latest(self, user_id: str) -> int:
        with self._lock:
            return self.board.latest(user_id)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=NOTIFIES_WAIT_SECONDS + 5)

    def _seen(self, changes: list[tuple[str, int]]) -> None:
        with self._lock:
            woken = self.board.seen(changes)
        for subscription in woken:
            subscription.moved.set()

    def _catch_up(self, conn: psycopg.Connection) -> None:
        with self._lock:
            users = self.board.users()
        if users:
            query = revisions_of(users)
            self.statements += 1
            self._seen(revisions(conn.execute(query.sql, query.params).fetchall()))

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                with psycopg.connect(**connection_arguments(self.conninfo)) as conn:
                    failures = 0
                    self._watch(conn)
            except psycopg.Error as error:
                failures += 1
                if failures == 1:
                    log.warning("event watcher lost the database, reconnecting: %s", error)
                self._stopping.wait(reconnect_delay(failures))

    def _watch(self, conn: psycopg.Connection) -> None:
        (real_pid,) = conn.execute(REAL_BACKEND_PID).fetchone() or (0,)
        self.mode = chosen_mode(self.options.fanout, conn.info.backend_pid, real_pid)
        if self.mode == "listen":
            conn.execute(LISTEN_FOR_CHANGES.sql)
        self._catch_up(conn)  # what changed while it was away, or before it listened
        while not self._stopping.is_set():
            if self.mode == "listen":
                for note in conn.notifies(timeout=NOTIFIES_WAIT_SECONDS):
                    self._seen(notified([note.payload]))
            else:
                self._stopping.wait(self.options.poll_interval)
                self._catch_up(conn)


class StreamChunks(Iterator[bytes]):
    """A stream's bytes, for a WSGI server to send as they come. Closing it (PEP 3333:
    the server does, however the answer ended, from any thread) ends the stream and its
    subscription, and wakes the thread waiting in it."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.subscription: Subscription = stream.subscription  # type: ignore[assignment]  # this module's
        self._reply: int | None = None
        self._stepping = threading.Lock()  # the plan runs in one thread at a time

    def __next__(self) -> bytes:
        while True:
            with self._stepping:
                step = advance_stream(self.stream.plan, self._reply)
            if isinstance(step, Emit):
                self._reply = None
                return step.data
            if isinstance(step, AwaitRevision):
                self._reply = self.subscription.wait(step.after, step.timeout)
                continue
            self.close()
            raise StopIteration

    def close(self) -> None:
        with self._stepping:
            self.stream.plan.close()
        self.stream.subscription.close()
        self.subscription.moved.set()  # its wait ends now
