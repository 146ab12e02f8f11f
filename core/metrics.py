"""What `/metrics` exposes, and who may read it: the metric table, the labels an
exchange gets, and the route (on unless METRICS_ENABLED=false; METRICS_TOKEN guards it).

The counting is I/O (every server process writes its totals to a file that a scrape
reads), so it lives outside the core (`todo_api.observe.metrics`); the route asks its driver for
the text with `CollectMetrics`, as a plan asks for rows, and `exposition` here renders
the summed totals in Prometheus's text format.
"""

from __future__ import annotations

import hmac
from collections.abc import Generator, Mapping, Sequence
from typing import Literal

import attrs

from core.errors import ApiError
from core.http import Response
from core.plan import CollectMetrics
from core.routes import Context, Operation, Route
from core.tracing import Exchange

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
"""OpenTelemetry's advice for `http.server.request.duration`, in seconds."""

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Prometheus's text exposition format."""


@attrs.frozen(slots=True)
class Metric:
    name: str
    kind: Literal["counter", "gauge", "histogram"]
    help: str
    labels: tuple[str, ...] = ()


REQUEST_DURATION = Metric("http_server_request_duration_seconds", "histogram",
                          "Time from the request reaching the API to its answer, by route template.",
                          ("method", "route", "status"))
ACTIVE_REQUESTS = Metric("http_server_active_requests", "gauge", "Requests being handled now.")
POOL_SIZE = Metric("todo_api_db_pool_size", "gauge", "Connections the database pools hold.")
POOL_IN_USE = Metric("todo_api_db_pool_in_use", "gauge", "Pooled connections lent to a request.")
POOL_WAITING = Metric("todo_api_db_pool_waiting", "gauge", "Requests waiting for a pooled connection.")
DATABASE_ERRORS = Metric("todo_api_db_errors", "counter",
                         "Statements that failed: a SQLSTATE, unreachable or pool_timeout.", ("kind",))
JWKS_FETCHES = Metric("todo_api_jwks_fetches", "counter", "Fetches of the issuer's signing keys.")
JWKS_FAILURES = Metric("todo_api_jwks_fetch_failures", "counter", "Fetches of the signing keys that failed.")
TOKEN_CACHE = Metric("todo_api_token_cache_lookups", "counter",
                     "Bearer tokens looked up in the cache of verified ones.", ("result",))
EVENT_STREAMS = Metric("todo_api_event_streams", "gauge", "Event streams open.")
EVENT_WATCHERS_POLLING = Metric("todo_api_event_watchers_polling", "gauge",
                                "Processes whose event watcher polls (behind a pooler); the others LISTEN.")
FANOUT_STATEMENTS = Metric("todo_api_event_fanout_statements", "counter",
                           "Statements the event watchers ran: one per poll, and one per (re)connection.")
READS = Metric("todo_api_db_reads", "counter",
               "Bodies of list, get, stats and changes answers, by the server that read them.", ("source",))
METRICS = (REQUEST_DURATION, ACTIVE_REQUESTS, POOL_SIZE, POOL_IN_USE, POOL_WAITING, DATABASE_ERRORS,
           JWKS_FETCHES, JWKS_FAILURES, TOKEN_CACHE, EVENT_STREAMS, EVENT_WATCHERS_POLLING, FANOUT_STATEMENTS,
           READS)
"""Every metric; a label's values are bounded (route templates, never raw paths or user ids)."""


@attrs.frozen(slots=True)
class Totals:
    """Every metric's value, summed over the server processes: counters by (name, label
    values); the duration histogram by label values, as counts per bucket (not
    cumulative; the last is past 10 s) and the sum of durations; gauges by name."""

    counters: Mapping[tuple[str, tuple[str, ...]], float]
    durations: Mapping[tuple[str, ...], tuple[Sequence[float], float]]
    gauges: Mapping[str, float]


def label_text(names: tuple[str, ...], values: tuple[str, ...], extra: str = "") -> str:
    """`{a="x",b="y"}` with Prometheus's escapes (a route template holds none, but a
    SQLSTATE or a future label must not break the format)."""
    pairs = [f'{name}="{escape(value)}"' for name, value in zip(names, values, strict=True)]
    if extra:
        pairs.append(extra)
    return "{" + ",".join(pairs) + "}" if pairs else ""


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number(value: float) -> str:
    return repr(float(value)) if value != int(value) else f"{int(value)}.0"


def exposition(totals: Totals) -> bytes:
    """The text format (version 0.0.4): HELP and TYPE for every metric, then its samples."""
    lines: list[str] = []
    for metric in METRICS:
        name = f"{metric.name}_total" if metric.kind == "counter" else metric.name
        lines += [f"# HELP {name} {metric.help}", f"# TYPE {name} {metric.kind}"]
        if metric.kind == "counter":
            counted = sorted((values, value) for (of, values), value in totals.counters.items()
                             if of == metric.name)
            lines += [f"{name}{label_text(metric.labels, values)} {number(value)}"
                      for values, value in counted]
        elif metric.kind == "gauge":
            lines.append(f"{name} {number(totals.gauges.get(metric.name, 0.0))}")
        else:
            for values, (counts, total) in sorted(totals.durations.items()):
                lines += histogram_lines(metric, values, counts, total)
    return ("\n".join(lines) + "\n").encode()


def histogram_lines(metric: Metric, values: tuple[str, ...], counts: Sequence[float], total: float
                    ) -> list[str]:
    """Cumulative buckets, then the sum and the count, of one series."""
    lines, cumulative = [], 0.0
    for bound, count in zip((*DURATION_BUCKETS, "+Inf"), counts, strict=True):
        cumulative += count
        labels = label_text(metric.labels, values, 'le="' + str(bound) + '"')
        lines.append(f"{metric.name}_bucket{labels} {number(cumulative)}")
    labels = label_text(metric.labels, values)
    lines.append(f"{metric.name}_sum{labels} {number(total)}")
    lines.append(f"{metric.name}_count{labels} {number(cumulative)}")
    return lines


def duration_labels(exchange: Exchange) -> tuple[str, str, str]:
    """method, route, status: an unmatched path's route is "" (no template to name)."""
    return exchange.method, exchange.route or "", str(exchange.status)


def metrics_routes(token: str | None) -> tuple[Route, ...]:
    """`GET /metrics`; with a `token`, only for `Authorization: Bearer <token>`."""
    expected = f"Bearer {token}".encode() if token else None

    def scrape(ctx: Context) -> Generator[CollectMetrics, bytes, Response]:
        if expected is not None:
            given = ctx.request.headers.get("authorization", "").encode("utf-8", "surrogatepass")
            if not hmac.compare_digest(given, expected):
                raise ApiError(401, "Metrics need the METRICS_TOKEN bearer token",
                               (("WWW-Authenticate", 'Bearer realm="metrics"'),))
        text = yield from CollectMetrics()
        return Response(200, (("Content-Type", CONTENT_TYPE), ("Cache-Control", "no-store")), text)

    operation = Operation(scrape, "metrics", "Prometheus metrics of every server process", {200: None},
                          uses_database=False)
    return (Route("/metrics", {"GET": operation}, authenticated=False, documented=False),)
