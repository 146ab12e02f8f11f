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
        self.moved = threading.Event()

    def wait(self, after: int, timeout: float) -> int | None:
        """The user's newest revision once it passes `after`, or when `timeout` runs out;
        None once the server is stopping."""
        latest = self.watcher.latest(self.user_id)
        if latest <= after and not self.watcher.stopping:
            self.moved.wait(timeout)
            self.moved.clear()  # a change after this is read below, or wakes the next wait
            latest = self.watcher.latest(self.user_id)
        return None if self.watcher.stopping else latest

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
        self.stopping = False
        """The server is stopping: every stream ends."""
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []

    def subscribe(self, user_id: str, per_user: int, per_worker: int) -> Subscription | SubscriberLimit:
        subscription = Subscription(self, user_id)
        with self._lock:
            refused = self.board.join(user_id, subscription, per_user, per_worker)
            if refused is None and not self._threads:
                jobs = {"todo-api-watcher": self._run, "todo-api-stop": self._watch_for_stop}
                for name, job in jobs.items():
                    self._threads.append(threading.Thread(target=job, name=name, daemon=True))
                    self._threads[-1].start()
        return refused or subscription

    def leave(self, subscription: Subscription) -> None:
        with self._lock:
            self.board.leave(subscription.user_id, subscription)

    def latest(self, user_id: str) -> int:
        with self._lock:
            return self.board.latest(user_id)

    def stop(self) -> None:
        self._end_streams()
        self._stopped.set()
        for thread in self._threads:
            thread.join(timeout=NOTIFIES_WAIT_SECONDS + 5)

    def _end_streams(self) -> None:
        with self._lock:
            self.stopping = True
            everyone = self.board.everyone()
        for subscription in everyone:
            subscription.moved.set()

    def _watch_for_stop(self) -> None:
        while not self._stopped.wait(STOP_CHECK_SECONDS):
            if told_to_stop(self.options.stop_file):
                self._end_streams()
                return

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
        while not self._stopped.is_set():
            try:
                arguments = connection_arguments(self.conninfo, self.options.connect_timeout)
                with psycopg.connect(**arguments) as conn:
                    failures = 0
                    self._watch(conn)
            except psycopg.Error as error:
                failures += 1
                if failures == 1:
                    log.warning("event watcher lost the database, reconnecting: %s", error)
                self._stopped.wait(reconnect_delay(failures))

    def _watch(self, conn: psycopg.Connection) -> None:
        (real_pid,) = conn.execute(REAL_BACKEND_PID).fetchone() or (0,)
        self.mode = chosen_mode(self.options.fanout, conn.info.backend_pid, real_pid)
        if self.mode == "listen":
            conn.execute(LISTEN_FOR_CHANGES.sql)
        self._catch_up(conn)  # what changed while it was away, or before it listened
        while not self._stopped.is_set():
            if self.mode == "listen":
                for note in conn.notifies(timeout=NOTIFIES_WAIT_SECONDS):
                    self._seen(notified([note.payload]))
            else:
                self._stopped.wait(self.options.poll_interval)
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
