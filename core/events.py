"""Server-sent events: a user's revision, pushed whenever their tasks change.

`GET /api/{user_id}/events` answers `text/event-stream` (the WHATWG HTML standard's
server-sent events). At once it sends the user's current revision, then one event each
time the revision moves (a write from any worker of any instance), each with `id:` set to
the revision; the client fetches what changed from the change feed (`core.changes`,
`since=` its last revision). So a client that reconnects, with or without
`Last-Event-ID`, learns at once whether it is behind: the first event says where the
server is.

While nothing happens, a comment line every EVENTS_HEARTBEAT_SECONDS keeps proxies and
load balancers from closing an idle stream. When the token's `exp` passes, a last
`expired` event ends the stream: the client reconnects with a fresh token. When the
server stops, the stream ends without one (a stop never waits on a stream), and the
client reconnects as after any lost connection. A process
streams to at most EVENTS_PER_USER_MAX streams of one user and EVENTS_PER_WORKER_MAX in
all; past either, 503 with `Retry-After`.

The driver keeps the subscriptions and learns of changes (storage.fanout); this module
says what the stream sends, and when.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from core.errors import ApiError
from core.http import Response
from core.plan import AwaitRevision, Emit, Plan, Stream, StreamPlan, Subscribe, SubscriberLimit, Subscription
from core.queries import revision as revision_query
from core.routes import Context

EVENT_STREAM_HEADERS = (
    ("Content-Type", "text/event-stream"),
    ("Cache-Control", "no-store"),  # never replayed from a cache: it is live
    ("X-Accel-Buffering", "no"),  # nginx passes each event on at once
)
RETRY_AFTER_SECONDS = 5
"""How long a client refused past a subscriber limit waits before it tries again."""
HEARTBEAT = b": keep-alive\n\n"
EXPIRED = b'event: expired\ndata: {"detail":"Token expired: reconnect with a fresh one"}\n\n'


def revision_event(revision: int) -> bytes:
    return f'id: {revision}\nevent: revision\ndata: {{"revision":{revision}}}\n\n'.encode()


def refused(limit: SubscriberLimit, per_user: int) -> ApiError:
    if limit.per == "user":
        detail = f"This user already has {per_user} event streams open here; close one or try again later"
    else:
        detail = "This server holds as many event streams as it can; try again later"
    return ApiError(503, detail, (("Retry-After", str(RETRY_AFTER_SECONDS)),))


def subscribe_to_events(ctx: Context) -> Plan:
    """Subscribe first, then read the revision: a change committed after the read reaches
    the subscription, so none falls between the two."""
    if ctx.request.method == "HEAD":
        return Response(200, EVENT_STREAM_HEADERS)  # a head without a stream: nothing to subscribe
    limits = ctx.limits
    subscription = yield from Subscribe(ctx.user_id, limits.events_per_user_max, limits.events_per_worker_max)
    if isinstance(subscription, SubscriberLimit):
        raise refused(subscription, limits.events_per_user_max)
    try:
        rows = yield from revision_query(ctx.user_id)
    except BaseException:
        subscription.close()  # the answer is an error, with no stream to close it
        raise
    expires_at = ctx.token_expires_at
    seconds_left = math.inf if expires_at is None else expires_at - time.time()
    plan = event_stream(subscription, rows[0][0], seconds_left, limits.events_heartbeat_seconds)
    return Response(200, EVENT_STREAM_HEADERS, stream=Stream(subscription, plan))


def event_stream(subscription: Subscription, revision: int, seconds_left: float, heartbeat: float,
                 clock: Callable[[], float] = time.monotonic) -> StreamPlan:
    """The revision now; then each newer one, a comment after `heartbeat` seconds of
    silence, and `expired` once `seconds_left` (the token's) have passed. A wait that ends
    early with nothing new (the watcher's catch-up woke it) just waits on."""
    deadline = clock() + seconds_left if math.isfinite(seconds_left) else math.inf
    yield from Emit(revision_event(revision))
    quiet_since = clock()
    while (now := clock()) < deadline:
        if now >= quiet_since + heartbeat:
            yield from Emit(HEARTBEAT)
            quiet_since = now
            continue
        until = min(quiet_since + heartbeat, deadline)
        latest = yield from AwaitRevision(subscription, revision, until - now)
        if latest is None:
            return  # the server is stopping: the client reconnects, to another instance if need be
        if latest > revision:
            revision = latest
            yield from Emit(revision_event(revision))
            quiet_since = clock()
    yield from Emit(EXPIRED)
