"""How both drivers use PostgreSQL, decided once so the sync and async ones cannot drift.

Everything here has to work the same whether the URL names PostgreSQL itself or a
transaction-mode pooler in front of it (PgBouncer, Neon's pooled endpoint, Supavisor),
where consecutive statements of one client connection may run on different server
connections. So nothing relies on session state: no `SET`, no session advisory lock, no
LISTEN, no temporary table; and protocol-level prepared statements are used only where
every statement of a connection is known to reach the same server session. (The event
watcher's connection of its own LISTENs only when it is known to be direct:
storage.fanout.)
"""

from __future__ import annotations

import select
import threading
from typing import Any, Literal

import attrs
from psycopg import OperationalError
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import ConnStatus
from psycopg.pq.abc import PGconn

from core import settings_table as table

APPLICATION_NAME = "todo-api"
"""Every connection says who it is (`pg_stat_activity`, the server's log), unless the URL names
itself: requests' and the event watcher's as this, migrations' and `serve`'s sizing check with
a word more (storage.migrate, storage.capacity)."""

PreparedMode = Literal["auto", "on", "off"]
FanoutMode = Literal["auto", "listen", "poll"]

REAL_BACKEND_PID = "SELECT pg_backend_pid()"
"""Asked once per new connection in `auto` mode; see `behind_a_pooler`."""

RECONNECT_GIVE_UP_SECONDS = 0.0
"""The pool tries a lost connection again at once, then gives up and tells the driver, whose
probe (storage.availability) watches for the database's return with a backoff of its own;
the next request after that opens a connection at once. The pool's own backoff (1 s, 2 s)
would keep a database that came back unused for up to two seconds."""

WAIT_SLICE_SECONDS = 0.05
"""A request waits for a pooled connection in slices this long, checking between them whether
the database has been found down meanwhile (then it answers 503 at once)."""

PROBE_FIRST_DELAY_SECONDS = 0.05
"""The probe's first attempt after an outage begins; each next waits twice as long, up to
DB_PROBE_MAX_INTERVAL_SECONDS."""


@attrs.frozen(slots=True)
class DatabaseOptions:
    """The pool and statement settings of one server process (from DB_* settings)."""

    max_size: int = table.DB_POOL_MAX_SIZE.default
    min_size: int = 1
    pool_timeout: float = table.DB_POOL_TIMEOUT_SECONDS.default  # waiting for a free connection, then 503
    statement_timeout: float = table.DB_STATEMENT_TIMEOUT_SECONDS.default  # then cancelled: 503
    connect_timeout: int = table.DB_CONNECT_TIMEOUT_SECONDS.default  # unless the URL sets one
    probe_first_delay: float = PROBE_FIRST_DELAY_SECONDS
    probe_max_delay: float = table.DB_PROBE_MAX_INTERVAL_SECONDS.default
    prepared_statements: PreparedMode = "auto"
    fanout: FanoutMode = "auto"  # how the watcher learns of changes (storage.fanout)
    poll_interval: float = table.EVENTS_POLL_INTERVAL_SECONDS.default
    stop_file: str | None = None
    """Once this file exists, the process's event streams end (storage.fanout.STOP_FILE)."""
    replica_url: str | None = None
    """DATABASE_REPLICA_URL: a server that may answer reads which have caught up (core.reads)."""


DEFAULT_OPTIONS = DatabaseOptions()


@attrs.frozen(slots=True)
class DatabaseUsage:
    """A process's use of the database now: its pool's connections, held, lent to a request,
    and requests waiting for one; its event streams, and its watcher's statements so far
    (and whether it polls: 1, or listens: 0); the answers' bodies read so far from the primary
    and from the replica."""

    size: int
    in_use: int
    waiting: int
    streams: int = 0
    fanout_statements: int = 0
    polling: int = 0
    primary_reads: int = 0
    replica_reads: int = 0


class LentConnections:
    """How many pooled connections requests hold now: counted by the driver, since the
    pool counts a connection still being opened as taken."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()  # server threads share a sync pool

    def __enter__(self) -> None:
        with self._lock:
            self.count += 1

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self.count -= 1


def pool_usage(stats: dict[str, int], lent: LentConnections, streams: int, fanout_statements: int,
               polling: bool, primary_reads: int = 0, replica_reads: int = 0) -> DatabaseUsage:
    """From psycopg_pool's `get_stats()` (the same keys for both kinds of pool), the watcher,
    and the bodies each server read."""
    return DatabaseUsage(stats.get("pool_size", 0), lent.count, stats.get("requests_waiting", 0),
                         streams, fanout_statements, int(polling), primary_reads, replica_reads)


def named(conninfo: str, purpose: str = "") -> dict[str, Any]:
    """The `application_name` argument for a connection, unless the URL names one."""
    if "application_name" in conninfo_to_dict(conninfo):
        return {}
    return {"application_name": f"{APPLICATION_NAME} {purpose}".strip()}


def connect_arguments(conninfo: str, options: DatabaseOptions) -> dict[str, Any]:
    """What every connection of the pool is opened with (the probe's too)."""
    connection: dict[str, Any] = {"autocommit": True, **named(conninfo)}  # each statement is atomic
    if "connect_timeout" not in conninfo_to_dict(conninfo):
        connection["connect_timeout"] = options.connect_timeout  # a silent host holds no one longer
    if options.prepared_statements == "off":
        connection["prepare_threshold"] = None
    return connection


def pool_arguments(conninfo: str, options: DatabaseOptions) -> dict[str, Any]:
    """The psycopg_pool arguments both drivers share (the callbacks are each driver's)."""
    return {
        "conninfo": conninfo,
        "min_size": options.min_size,
        "max_size": options.max_size,
        "timeout": options.pool_timeout,
        "reconnect_timeout": RECONNECT_GIVE_UP_SECONDS,
        "kwargs": connect_arguments(conninfo, options),
        "open": False,
        "name": "todo-api",
    }


def behind_a_pooler(reported_pid: int, real_pid: int) -> bool:
    """Whether something between us and PostgreSQL hands our statements to other sessions.

    A direct connection reports its server process id at start-up, and the session's
    `pg_backend_pid()` is that same process. A pooler or proxy that multiplexes clients
    (PgBouncer, Supavisor, pgcat, Odyssey, Neon's proxy) makes up the id it reports,
    since no single server process is ours. Prepared statements are then unsafe: a
    statement prepared on one server session is missing on the next (an error), or, worse,
    another client's statement of the same name runs in its place.
    """
    return reported_pid != real_pid


def auto_prepare_threshold(reported_pid: int, real_pid: int | None) -> int | None:
    """`auto` mode's prepare_threshold for a new connection: psycopg's default (5) on a direct
    connection, None (never prepare) behind a pooler. `on` and `off` need no test: they are
    psycopg's default and a `prepare_threshold=None` connection argument."""
    direct = real_pid is not None and not behind_a_pooler(reported_pid, real_pid)
    return 5 if direct else None


def hung_up(pgconn: PGconn) -> bool:
    """Whether the server has closed this idle connection (a restart, a pooler's idle timeout).

    An idle connection has nothing to read. A server that hangs up sends a last message
    (FATAL: terminating connection) and then ends the stream: read until the socket is
    quiet, and let libpq say whether the line is still up. A stray notice reads as quiet
    after one read, so the connection is kept. No round trip: every checkout can afford it.
    """
    if pgconn.status != ConnStatus.OK:
        return True
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN)
    for _ in range(3):
        if not poller.poll(0):
            return False
        try:
            pgconn.consume_input()
        except OperationalError:
            return True
        if pgconn.status != ConnStatus.OK:
            return True
    return True  # still talking to an idle client: not a connection to trust with a request
