"""What the core says of each request for the access log and the metrics (`Exchange`),
and the `/metrics` route's rules: bounded labels, the user who asked, one error line."""

from __future__ import annotations

import itertools
import logging

import pytest

from core import Api, Request
from core.auth import Authenticator
from core.http import Response
from core.metrics import CONTENT_TYPE, duration_labels
from core.plan import CollectMetrics, StorageFailure, advance
from core.tracing import Exchange, RequestIdFilter
from tests.core.drive import drive
from tests.helpers import SECRET, make_token

TASK_ID = "6f1c1f55-0000-4000-8000-000000000001"
METRICS_TOKEN = "m" * 32


def api(**options: object) -> Api:
    ticks = itertools.count(start=100.0, step=0.25)  # each reading of the clock: a quarter second later
    return Api(Authenticator(secret=SECRET), clock=lambda: next(ticks), **options)  # type: ignore[arg-type]


def exchange_of(method: str, path: str, *, token_user: str | None = "alice", answer=None,
                headers: dict[str, str] | None = None, the_api: Api | None = None) -> tuple[Response, Exchange]:
    the_api = the_api or api()
    all_headers = dict(headers or {})
    if token_user is not None:
        all_headers["authorization"] = f"Bearer {make_token(token_user)}"
    request = Request(method, path, b"", all_headers, b"")
    exchange = the_api.begin(request)
    response, _ = drive(the_api.handle(request, exchange), answer)
    return response, exchange


def test_an_exchange_names_the_route_template_never_the_raw_path():
    response, exchange = exchange_of("GET", f"/api/alice/tasks/{TASK_ID}", answer=lambda q: [])
    assert response.status == 404
    assert (exchange.route, exchange.user_id, exchange.status) == ("/api/{user_id}/tasks/{task_id}", "alice", 404)
    assert TASK_ID not in exchange.access_line()
    assert duration_labels(exchange) == ("GET", "/api/{user_id}/tasks/{task_id}", "404")


def test_an_unmatched_path_has_no_route_and_an_invented_method_no_name():
    _, unmatched = exchange_of("GET", "/x%0A2026-01-01 ERROR forged", token_user=None)
    assert (unmatched.route, unmatched.status) == (None, 404)
    assert duration_labels(unmatched) == ("GET", "", "404")
    _, invented = exchange_of("BREW", "/health", token_user=None)
    assert (invented.method, invented.route, invented.status) == ("_OTHER", "/health", 405)


def test_status_bytes_and_duration_are_those_of_the_answer_as_sent():
    response, exchange = exchange_of("GET", "/health", token_user=None)
    assert exchange.response_bytes == len(response.body) > 0
    assert exchange.duration == 0.25  # begin read the clock once, the finished answer once more
    head, head_exchange = exchange_of("HEAD", "/health", token_user=None)
    assert (head.body, head_exchange.response_bytes, head_exchange.method) == (b"", 0, "HEAD")


def test_the_user_who_asked_is_named_even_when_refused_and_a_forged_token_names_nobody():
    _, someone_elses = exchange_of("GET", "/api/bob/stats", token_user="alice")
    assert (someone_elses.status, someone_elses.user_id) == (403, "alice")
    _, forged = exchange_of("GET", "/api/alice/stats", token_user=None,
                            headers={"authorization": "Bearer " + make_token("alice")[:-4] + "AAAA"})
    assert (forged.status, forged.user_id) == (401, None)
    assert "user=" not in forged.access_line()


def test_a_user_id_with_a_line_break_cannot_forge_a_line():
    _, exchange = exchange_of("GET", "/api/a%0Ab/stats", token_user="a\nINFO forged")
    assert "\n" not in exchange.access_line()
    assert exchange.access_fields()["user_id"] == "a\nINFO forged"  # JSON escapes it


def test_the_token_cache_outcome_is_recorded():
    shared = api()
    _, first = exchange_of("GET", "/api/alice/stats", answer=lambda q: [], the_api=shared)
    _, second = exchange_of("GET", "/api/alice/stats", answer=lambda q: [], the_api=shared)
    _, public = exchange_of("GET", "/health", token_user=None, the_api=shared)
    assert (first.token_cache, second.token_cache, public.token_cache) == ("miss", "hit", None)


@pytest.mark.parametrize("failure, kind", [
    (StorageFailure(unavailable=True), "unreachable"),
    (StorageFailure(unavailable=True, pool_exhausted=True), "pool_timeout"),
    (StorageFailure(unavailable=False, sqlstate="57014"), "57014"),
    (StorageFailure(unavailable=False, sqlstate="42P01"), "42P01"),
])
def test_a_database_failure_is_counted_by_kind(failure, kind):
    _, exchange = exchange_of("GET", "/api/alice/stats", answer=lambda q: failure)
    assert exchange.database_error == kind


def test_an_unexpected_error_logs_once_with_the_request_id_and_without_the_body_or_token(caplog):
    caplog.set_level(logging.INFO, logger="todo_api")
    caplog.handler.addFilter(RequestIdFilter())
    token = make_token("alice")
    body = b'{"title": "secret plans", "priority": "low", "category": "work"}'
    request = Request("POST", "/api/alice/tasks", b"", {"authorization": f"Bearer {token}",
                                                        "x-request-id": "req-500"}, body)
    the_api = api()
    response, _ = drive(the_api.handle(request), lambda q: [()])  # an empty row: an error inside
    assert response.status == 500
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].request_id == "req-500"
    logged = caplog.text
    assert token not in logged and "secret plans" not in logged


def test_metrics_are_absent_unless_enabled():
    response, _ = exchange_of("GET", "/metrics", token_user=None)
    assert response.status == 404


def scrape(the_api: Api, headers: dict[str, str]) -> tuple[Response, bool]:
    """The answer to GET /metrics, and whether the plan asked for the metrics' text."""
    plan = the_api.handle(Request("GET", "/metrics", b"", headers, b""))
    step = advance(plan, None)
    asked = isinstance(step, CollectMetrics)
    if asked:
        step = advance(plan, b"# metrics\n")
    assert isinstance(step, Response)
    return step, asked


def test_metrics_are_served_to_anyone_without_a_token():
    response, asked = scrape(api(metrics=True), {})
    assert (response.status, asked, response.body) == (200, True, b"# metrics\n")
    assert ("Content-Type", CONTENT_TYPE) in response.headers


@pytest.mark.parametrize("authorization, served", [
    (f"Bearer {METRICS_TOKEN}", True),
    (None, False),
    (f"Bearer {METRICS_TOKEN}x", False),
    (f"bearer {METRICS_TOKEN}", False),
    (f"Bearer {make_token('alice')}", False),
    ("Bearer \udcff", False),
])
def test_a_metrics_token_is_required_when_set(authorization, served):
    headers = {"authorization": authorization} if authorization is not None else {}
    response, asked = scrape(api(metrics=True, metrics_token=METRICS_TOKEN), headers)
    assert (response.status == 200, asked) == (served, served)
    if not served:
        assert response.status == 401
        assert ("WWW-Authenticate", 'Bearer realm="metrics"') in response.headers
