"""How the core asks for data without doing I/O.

A plan is a generator: it yields each `Query` it needs and is sent back the rows
(a list of tuples); its return value is the `Response`. Before any query, it may also
yield `FetchKeys` (authentication needs the issuer's JWKS) and be sent `FetchedKeys`,
and `ReadBody` (the request's body, once the request is known to deserve it) and be
sent the bytes.
When the database fails, the driver throws a `StorageFailure` into the plan instead of
sending rows, so that the core, not the driver, decides what the client sees.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any

import attrs

from core.http import Response
from core.keys import FetchedKeys, FetchKeys

Rows = list[tuple[Any, ...]]


@attrs.frozen(slots=True)
class Query:
    """One SQL statement with its parameters (psycopg `%s` placeholders)."""

    sql: str
    params: Sequence[Any] = ()


@attrs.frozen(slots=True)
class StorageFailure(Exception):
    """What a driver reports when a statement or a connection fails.

    `unavailable` is true when the database could not be reached at all (the client
    should retry); `sqlstate` is the PostgreSQL error code when the server answered;
    `pool_exhausted` when no pooled connection came free in time.
    """

    unavailable: bool
    sqlstate: str | None = None
    message: str = ""
    pool_exhausted: bool = False

    @property
    def kind(self) -> str:
        """What the metrics count it as: a SQLSTATE, or what kept the statement from running."""
        if self.pool_exhausted:
            return "pool_timeout"
        return self.sqlstate or ("unreachable" if self.unavailable else "driver")

    @property
    def transient(self) -> bool:
        """The client should retry: unreachable, or a SQLSTATE that passes with time."""
        sqlstate = self.sqlstate or ""
        return self.unavailable or sqlstate in TRANSIENT_SQLSTATES or sqlstate[:2] in TRANSIENT_CLASSES


TRANSIENT_CLASSES = frozenset({
    "08",  # connection exception
    "53",  # insufficient resources: too many connections, out of memory, disk full
    "57",  # operator intervention: query canceled (57014: past DB_STATEMENT_TIMEOUT_SECONDS), shutdowns
})
TRANSIENT_SQLSTATES = frozenset({
    "40001",  # serialization failure
    "40P01",  # deadlock detected
    "55P03",  # lock not available
    "25006",  # read-only transaction: a failover or a read replica behind the URL
})


@attrs.frozen(slots=True)
class ReadBody:
    """Read the request body, up to `max_bytes` (one more than allowed, to spot an
    oversized one). The reply is the body, or its first `max_bytes` bytes; a driver whose
    framework already knows the body is longer (and kept none of it) may reply with any
    `max_bytes` bytes."""

    max_bytes: int


@attrs.frozen(slots=True)
class CollectMetrics:
    """The exposition text of every server process's metrics (`core.metrics`), as bytes."""


MetricsCollector = Callable[[], bytes]
"""What a driver calls to answer `CollectMetrics`."""


def no_metrics() -> bytes:
    """The answer to `CollectMetrics` of a driver whose frontend collects none."""
    return b""


Effect = Query | FetchKeys | ReadBody | CollectMetrics
"""What a plan may ask its driver for: rows from the database, the issuer's JWKS, the
request body, or the metrics' exposition text."""

Plan = Generator[Effect, Any, Response]


class PlanOutOfOrder(RuntimeError):
    """A plan asked for keys or the body after its first query: a driver holds a database
    connection only while a plan queries, never while it waits on HTTP."""


def advance(plan: Plan, reply: Rows | FetchedKeys | bytes | StorageFailure | None) -> Effect | Response:
    """Send the reply (or throw the failure) into the plan; its next request or its response.

    The part of running a plan that has no I/O in it, shared by every driver.
    """
    try:
        if isinstance(reply, StorageFailure):
            return plan.throw(reply)
        return plan.send(reply)  # None starts the generator
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def final_response(step: Effect | Response) -> Response:
    """What a driver returns once the queries are done: the response, or PlanOutOfOrder."""
    if not isinstance(step, Response):
        raise PlanOutOfOrder(f"the plan asked for {type(step).__name__} after a query")
    return step
