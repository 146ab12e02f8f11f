"""Whether the database is known to be unreachable, and the one probe per process that watches
for its return.

Without it, an outage held every request for DB_POOL_TIMEOUT_SECONDS (each waiting for a
connection the pool could not make) before its 503: every Flask thread and every open
connection held at once, and a browser waiting 5 s for an error. Now the first statement or
connection attempt that finds no server marks the database down; until a probe connects
again, requests that need it answer 503 without touching the pool. The probe backs off
(DB_PROBE_FIRST_SECONDS, doubling up to DB_PROBE_MAX_SECONDS), so a database that comes back
serves again within that cap. Both drivers share it: the probe is a thread either way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import psycopg

log = logging.getLogger("todo_api")

Watch = Callable[[psycopg.Connection], AbstractContextManager[None]]
"""The statement watchdog's `watch`: the probe's statement is bounded like any other."""

PROBE = "SELECT 1"
"""A statement, not just a connection: behind a pooler a connection proves nothing."""


class DatabaseDown(psycopg.OperationalError):
    """Raised instead of waiting for the pool while the database is known unreachable."""


def unreachable(error: Exception) -> bool:
    """No server answered (refused, silent, connection lost), or it said it is shutting down or
    starting up (57P01-57P03). Any other answer (too many connections, a bad password) means a
    server is there: a failure of another kind, not an outage to answer at once."""
    if not isinstance(error, psycopg.OperationalError):
        return False  # a value psycopg could not send, say: nothing to do with the server
    sqlstate = error.sqlstate
    return sqlstate is None or sqlstate.startswith("57P")


class Availability:
    """Down from the first unreachable failure until a probe's statement succeeds."""

    def __init__(self, conninfo: str, connect_arguments: dict[str, object], watch: Watch,
                 first_delay: float, max_delay: float) -> None:
        self.conninfo, self.connect_arguments, self.watch = conninfo, connect_arguments, watch
        self.first_delay, self.max_delay = first_delay, max_delay
        self.down = False
        self.outages = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._probe: threading.Thread | None = None

    def failed(self, error: Exception) -> None:
        """A connection attempt or a statement failed: if no server answered, the database is down."""
        if unreachable(error):
            self.lost(str(error).strip())

    def lost(self, reason: str) -> None:
        with self._lock:
            if self.down or self._stopping.is_set():
                return
            self.down = True
            self.outages += 1
            self._probe = threading.Thread(target=self._watch_for_return, name="todo-api database probe",
                                           daemon=True)
            self._probe.start()
        log.warning("database unreachable (%s): answering 503 until it is back", reason or "no answer")

    def stop(self) -> None:
        self._stopping.set()
        if self._probe is not None:
            self._probe.join(timeout=10)

    def _watch_for_return(self) -> None:
        began, delay = time.monotonic(), self.first_delay
        while not self._stopping.wait(delay):
            if self.answers():
                with self._lock:
                    self.down = False
                log.warning("database reachable again after %.1f s", time.monotonic() - began)
                return
            delay = min(delay * 2, self.max_delay)

    def answers(self) -> bool:
        try:
            with psycopg.connect(self.conninfo, **self.connect_arguments) as conn, self.watch(conn):  # type: ignore[arg-type]
                conn.execute(PROBE)
            return True
        except psycopg.Error as error:
            return not unreachable(error)


def waits(deadline: float, slice_seconds: float) -> Iterator[float]:
    """The pool waits of one checkout: short slices until the deadline, so that a request waiting
    for a connection notices an outage declared meanwhile instead of waiting out the pool timeout."""
    while (left := deadline - time.monotonic()) > 0:
        yield min(slice_seconds, left)
