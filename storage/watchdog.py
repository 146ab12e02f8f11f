"""The statement timeout for both drivers: a thread that cancels statements running too long.

A server-side `statement_timeout` would need a session `SET` (lost, or leaked onto other
clients, behind a transaction-mode pooler) or a startup option (refused by PgBouncer).
So the client keeps the time: each statement registers its deadline; past it, the
watchdog sends PostgreSQL a cancel request (the statement fails with 57014, which the
core answers 503), and if the statement is still not back a moment later (the server
or the network is gone), it shuts the socket so that the waiting thread is freed.
A cancel request and a socket shutdown are safe from another thread for a sync and an
async connection alike, so one watchdog per process serves either driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg

log = logging.getLogger("todo_api")

Connection = psycopg.Connection[Any] | psycopg.AsyncConnection[Any]

FORCE_CLOSE_AFTER_SECONDS = 2.0
"""After the cancel request, how long a statement may take to stop before its socket is shut."""


class Watch:
    """One running statement: its connection and the moment it becomes too old."""

    __slots__ = ("conn", "deadline", "cancelled")

    def __init__(self, conn: Connection, deadline: float) -> None:
        self.conn, self.deadline, self.cancelled = conn, deadline, False


class Watchdog:
    """Started with the pool, stopped with it; costs each statement two dict operations."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.interval = min(0.1, timeout / 10)
        self.running: dict[int, Watch] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._patrol, name="todo-api statement watchdog", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)

    @contextlib.contextmanager
    def watch(self, conn: Connection) -> Iterator[None]:
        key, entry = id(conn), Watch(conn, time.monotonic() + self.timeout)
        self.running[key] = entry
        try:
            yield
        finally:
            if self.running.get(key) is entry:
                del self.running[key]

    def _patrol(self) -> None:
        while not self.stopping.wait(self.interval):
            now = time.monotonic()
            for key, entry in self.running.copy().items():
                if now < entry.deadline or self.running.get(key) is not entry:
                    continue
                if not entry.cancelled:
                    entry.cancelled = True
                    log.warning("statement still running after %.1f s: cancelling it", self.timeout)
                    # In a thread of its own: a cancel request to a dead host can block.
                    threading.Thread(target=cancel, args=(entry.conn,), daemon=True).start()
                elif now >= entry.deadline + FORCE_CLOSE_AFTER_SECONDS:
                    log.warning("cancelled statement did not stop: closing its connection")
                    del self.running[key]
                    shut_socket(entry.conn)


def cancel(conn: Connection) -> None:
    """Send PostgreSQL a cancel request for this connection's statement, giving up after a while.

    psycopg's `cancel_safe` (libpq 17's non-blocking cancel, with a timeout): the classic
    `cancel()` blocks without one (and, in psycopg's C build, holding the GIL), so a server
    that stopped answering would freeze the whole process. An async connection's cancel
    runs in an event loop of this thread's own: it opens a connection of its own and
    never touches the one its statement runs on.
    """
    try:
        if isinstance(conn, psycopg.AsyncConnection):
            asyncio.run(conn.cancel_safe(timeout=FORCE_CLOSE_AFTER_SECONDS))
        else:
            conn.cancel_safe(timeout=FORCE_CLOSE_AFTER_SECONDS)
    except Exception as error:  # a failed cancel is logged; the socket shutdown follows
        log.warning("cancel request failed: %s", error)


def shut_socket(conn: Connection) -> None:
    """Wake the thread blocked on this connection: its read ends, the pool discards it."""
    with contextlib.suppress(OSError, psycopg.Error):
        duplicate = socket.socket(fileno=os.dup(conn.pgconn.socket))
        try:
            duplicate.shutdown(socket.SHUT_RDWR)
        finally:
            duplicate.close()
