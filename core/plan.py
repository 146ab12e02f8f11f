"""How the core asks for data without doing I/O.

A plan is a generator. Each effect below is something it needs from its driver, with
the reply the driver sends back:

| effect           | reply                                        |
|------------------|----------------------------------------------|
| `Query`          | `Rows` (a `StorageFailure` thrown in instead) |
| `FetchKeys`      | `FetchedKeys`                                |
| `ReadBody`       | `bytes`, or `BODY_TOO_LARGE`                 |
| `CollectMetrics` | `bytes` (the metrics' exposition text)       |
| `Subscribe`      | a `Subscription`, or a `SubscriberLimit`     |

A plan asks with `reply = yield from effect`, which mypy types as the effect's reply;
its return value is the `Response`. Keys and the body are asked for before any query.
When the database fails, the driver throws a `StorageFailure` into the plan instead of
sending rows, so that the core, not the driver, decides what the client sees.

A streamed answer (server-sent events) carries a `Stream`: a second plan, run by the
driver once the head is sent, that asks with `AwaitRevision` (reply: an `int`, or None
when the server stops) and `Emit` (reply: None) until it returns.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Sequence
from typing import Any, Generic, Literal, Protocol, Self, TypeVar

import attrs

from core.http import Response

Rows = list[tuple[Any, ...]]
R = TypeVar("R")


class Ask(Generic[R]):
    """An effect whose reply is an `R`: `reply = yield from effect` in a plan."""

    __slots__ = ()

    def __iter__(self) -> Generator[Self, Any, R]:
        reply: R = yield self
        return reply


@attrs.frozen(slots=True)
class Query(Ask[Rows]):
    """One SQL statement with its parameters (psycopg `%s` placeholders).

    `on="replica"` lets the read replica answer, when the driver has one (else the primary
    does): only `core.reads` asks so, having checked that the replica has caught up.
    `body_read` marks the statement that reads an answer's body, counted by the server that
    answered it (`todo_api_db_reads_total`)."""

    sql: str
    params: Sequence[Any] = ()
    on: Literal["primary", "replica"] = "primary"
    body_read: bool = False


@attrs.frozen(slots=True)
class FetchKeys(Ask["FetchedKeys"]):
    """GET this JWKS document (the issuer's signing keys)."""

    url: str


@attrs.frozen(slots=True)
class FetchedKeys:
    """The reply to `FetchKeys`: the document's bytes, or `body=None` and why it failed."""

    body: bytes | None
    error: str = ""


class BodyTooLarge:
    """The reply to `ReadBody` of a driver whose framework already knows the body is longer
    than asked (and kept none of it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "BODY_TOO_LARGE"


BODY_TOO_LARGE = BodyTooLarge()


@attrs.frozen(slots=True)
class ReadBody(Ask["bytes | BodyTooLarge"]):
    """Read the request body, up to `max_bytes` (one more than allowed, to spot an
    oversized one). The reply is the body or its first `max_bytes` bytes, or
    `BODY_TOO_LARGE`."""

    max_bytes: int


@attrs.frozen(slots=True)
class CollectMetrics(Ask[bytes]):
    """The exposition text of every server process's metrics (`core.metrics`), as bytes."""


class Subscription(Protocol):
    """A driver's registration of one event stream: what its `AwaitRevision`s wait on."""

    def close(self) -> None: ...


@attrs.frozen(slots=True)
class SubscriberLimit:
    """The reply to `Subscribe` past a limit: the user's (`per="user"`) or the process's."""

    per: Literal["user", "worker"]


@attrs.frozen(slots=True)
class Subscribe(Ask["Subscription | SubscriberLimit"]):
    """Register a stream of the user's revisions, unless the user holds `per_user` streams
    in this process already, or the process `per_worker`. Asked before the plan's queries,
    so that a change committed after the revision they read cannot be missed."""

    user_id: str
    per_user: int
    per_worker: int


@attrs.frozen(slots=True)
class AwaitRevision(Ask["int | None"]):
    """Wait up to `timeout` seconds for the user's revision to pass `after`. The reply is
    the newest revision the driver knows (at most `after` when the time ran out), or None
    when the server is stopping: the stream ends, and its client reconnects elsewhere."""

    subscription: Subscription
    after: int
    timeout: float


@attrs.frozen(slots=True)
class Emit(Ask[None]):
    """Send these bytes of a streamed answer to the client now."""

    data: bytes


StreamPlan = Generator["AwaitRevision | Emit", Any, None]


@attrs.frozen(slots=True, eq=False)
class Stream:
    """A streamed answer's body: the plan saying what to send, and the subscription the
    driver closes when the stream ends, however it ends (or when it never starts)."""

    subscription: Subscription
    plan: StreamPlan


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


def no_metrics() -> bytes:
    """The answer to `CollectMetrics` of a driver whose frontend collects none."""
    return b""


Effect = Query | FetchKeys | ReadBody | CollectMetrics | Subscribe
Reply = Rows | FetchedKeys | bytes | BodyTooLarge | Subscription | SubscriberLimit | StorageFailure | None
"""What a driver sends into a plan (None starts it; a StorageFailure is thrown)."""
Plan = Generator[Effect, Any, Response]

KeyFetcher = Callable[[FetchKeys], FetchedKeys]
BodyReader = Callable[[int], "bytes | BodyTooLarge"]
AsyncKeyFetcher = Callable[[FetchKeys], Awaitable[FetchedKeys]]
AsyncBodyReader = Callable[[int], Awaitable["bytes | BodyTooLarge"]]
MetricsCollector = Callable[[], bytes]
"""What a frontend hands a driver to answer `FetchKeys`, `ReadBody` and `CollectMetrics`
(the metrics are a few small files: read without a thread, even by an async driver)."""


class Driver(Protocol):
    """Runs plans against a database, for a sync frontend (`storage.sync.Database`)."""

    def run(self, plan: Plan, *, fetch_keys: KeyFetcher, read_body: BodyReader,
            collect_metrics: MetricsCollector = no_metrics) -> Response: ...

    def stream(self, stream: Stream) -> Iterator[bytes]:
        """A streamed answer's bytes as they come; closing the iterator ends the stream."""


class AsyncDriver(Protocol):
    """Runs plans against a database, for an async frontend (`storage.aio.Database`)."""

    async def run(self, plan: Plan, *, fetch_keys: AsyncKeyFetcher, read_body: AsyncBodyReader,
                  collect_metrics: MetricsCollector = no_metrics) -> Response: ...

    def stream(self, stream: Stream) -> AsyncIterator[bytes]:
        """A streamed answer's bytes as they come; `aclose` ends the stream."""


class PlanOutOfOrder(RuntimeError):
    """A plan asked for keys or the body after its first query: a driver holds a database
    connection only while a plan queries, never while it waits on HTTP."""


def advance(plan: Plan, reply: Reply) -> Effect | Response:
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


def advance_stream(plan: StreamPlan, reply: int | None) -> AwaitRevision | Emit | None:
    """Send the reply into a stream's plan: its next effect, or None once it has ended."""
    try:
        return plan.send(reply)
    except StopIteration:
        return None
