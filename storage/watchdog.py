"""The statement timeout for the sync driver: a thread that cancels statements running too long.

A server-side `statement_timeout` would need a session `SET` (lost, or leaked onto other
clients, behind a transaction-mode pooler) or a startup option (refused by PgBouncer).
So the client keeps the time: each statement registers its deadline; past it, the
watchdog sends PostgreSQL a cancel request (the statement fails with 57014, which the
core answers 503), and if the statement is still not back a moment later (the server
or the network is gone), it shuts the socket so that the waiting thread is freed.
The async driver needs no thread: `asyncio.timeout` does the same (see `storage.aio`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator

import psycopg

log = logging.getLogger("todo_api")

FORCE_CLOSE_AFTER_SECONDS = 2.0
"""After the cancel request, how long a statement may take to stop before its socket is shut."""


class Watch:
    """One running statement: its connection and the moment it becomes too old."""

    __slots__ = ("conn", "deadline", "cancelled")

    def __init__(self, conn: psycopg.Connection, deadline: float) -> None:
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
    def watch(self, conn: psycopg.Connection) -> Iterator[None]:
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


def cancel(conn: psycopg.Connection) -> None:
    try:
        conn.cancel()
    except psycopg.Error as error:
        log.warning("cancel request failed: %s", error)


def shut_socket(conn: psycopg.Connection) -> None:
    """Wake the thread blocked on this connection: its read ends, the pool discards it."""
    with contextlib.suppress(OSError, psycopg.Error):
        duplicate = socket.socket(fileno=os.dup(conn.pgconn.socket))
        try:
            duplicate.shutdown(socket.SHUT_RDWR)
        finally:
            duplicate.close()
