"""One access line per request on "todo_api.access": its fields, in JSON and text, and
what must never be in any line (a token, a body, a raw path, a database password)."""

from __future__ import annotations

import json
import logging
import os

import pytest

from core.tracing import Exchange, RequestIdFilter
from tests.api.clients import create_task, request
from tests.api.issuer import Issuer, SigningKey
from tests.api.test_request_ids import TRACE, closed_port
from tests.helpers import make_token, new_user_id
from todo_api.observe.logs import TEXT_FORMAT, AccessLine, DirectAccessLines, JsonFormatter


@pytest.fixture
def access(caplog):
    caplog.set_level(logging.INFO, logger="todo_api")

    def lines(request_id: str) -> list[logging.LogRecord]:
        return [record for record in caplog.records
                if record.name == "todo_api.access" and record.request_id == request_id]
    return lines


def fields(record: logging.LogRecord) -> dict[str, object]:
    return record.exchange.access_fields()  # type: ignore[attr-defined, no-any-return]


def formatted(caplog) -> str:
    """Every captured record as both formatters write it."""
    text, as_json = logging.Formatter(TEXT_FORMAT), JsonFormatter()
    for record in caplog.records:
        if not hasattr(record, "request_id"):  # a library's record: no filter of ours saw it
            RequestIdFilter().filter(record)
    return "\n".join(f"{text.format(record)}\n{as_json.format(record)}" for record in caplog.records)


def test_each_request_has_one_access_line_with_its_fields(client, user, access):
    headers = {**user.headers, "X-Request-ID": "access-1", "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"}
    answer = request(client, "GET", user.stats, headers=headers)
    [line] = access("access-1")
    entry = json.loads(JsonFormatter().format(line))
    assert entry["time"].endswith("Z") and entry["level"] == "INFO" and entry["logger"] == "todo_api.access"
    assert {key: entry[key] for key in ("request_id", "trace_id", "method", "route", "status", "bytes", "user_id")} == {
        "request_id": "access-1", "trace_id": TRACE, "method": "GET", "route": "/api/{user_id}/stats",
        "status": 200, "bytes": int(answer.header("content-length")), "user_id": user.id,
    }
    assert entry["duration_ms"] > 0
    assert line.getMessage().startswith("GET /api/{user_id}/stats 200 ")


def test_routes_are_templates_and_paths_never_show(client, user, access):
    task = create_task(client, user, title="x")
    request(client, "DELETE", user.task(task["id"]), headers={**user.headers, "X-Request-ID": "access-2"})
    request(client, "GET", "/nope/%0A2026 ERROR forged", headers={"X-Request-ID": "access-3"})
    request(client, "BREW", "/health", headers={"X-Request-ID": "access-4"})
    request(client, "HEAD", "/health", headers={"X-Request-ID": "access-5"})
    [delete], [unmatched], [invented], [head] = (access(f"access-{n}") for n in range(2, 6))
    assert (fields(delete)["route"], fields(delete)["status"]) == ("/api/{user_id}/tasks/{task_id}", 204)
    assert task["id"] not in delete.getMessage()
    assert (fields(unmatched)["route"], fields(unmatched)["status"]) == (None, 404)
    assert "forged" not in unmatched.getMessage()
    assert (fields(invented)["method"], fields(invented)["status"]) == ("_OTHER", 405)
    assert (fields(head)["method"], fields(head)["bytes"]) == ("HEAD", 0)


def test_who_asked_is_named_and_a_token_is_never_logged(client, user, access, caplog):
    token = make_token("mallory")
    forged = user.headers["Authorization"][:-4] + "AAAA"
    request(client, "GET", user.stats, headers={"Authorization": f"Bearer {token}", "X-Request-ID": "access-6"})
    request(client, "GET", user.stats, headers={"Authorization": forged, "X-Request-ID": "access-7"})
    [someone_elses], [forgery] = access("access-6"), access("access-7")
    assert (fields(someone_elses)["status"], fields(someone_elses)["user_id"]) == (403, "mallory")
    assert (fields(forgery)["status"], fields(forgery)["user_id"]) == (401, None)
    everything = formatted(caplog)
    assert token not in everything and forged.split()[1] not in everything


def test_a_body_is_never_logged(client, user, access, caplog):
    answer = request(client, "POST", user.tasks, headers={**user.headers, "X-Request-ID": "access-8"},
                     json={"title": "my secret plan", "priority": "urgent", "category": "work"})
    assert answer.status == 422
    [line] = access("access-8")
    assert fields(line)["status"] == 422
    assert "my secret plan" not in formatted(caplog)


def test_a_database_failure_logs_once_without_the_password(client, user, frontend_factory, caplog):
    caplog.set_level(logging.INFO, logger="todo_api")
    password = "hunter2-not-for-logs"
    down = frontend_factory(client.name, db_pool_timeout_seconds=0.3, database_url=(
        f"postgresql://postgres:{password}@127.0.0.1:{closed_port()}/x?connect_timeout=1"))
    answer = request(down, "GET", user.stats, headers={**user.headers, "X-Request-ID": "access-9"})
    assert answer.status == 503
    mine = [record for record in caplog.records if getattr(record, "request_id", None) == "access-9"]
    assert [record.levelname for record in mine if record.name == "todo_api"] == ["WARNING"]
    assert [fields(record)["status"] for record in mine if record.name == "todo_api.access"] == [503]
    assert password not in formatted(caplog)


def test_access_log_off(client, user, frontend_factory, caplog):
    quiet = frontend_factory(client.name, access_log_enabled=False)
    caplog.set_level(logging.INFO, logger="todo_api")
    assert request(quiet, "GET", user.stats, headers=user.headers).status == 200
    assert [record for record in caplog.records if record.name == "todo_api.access"] == []


@pytest.mark.parametrize("user_id", [None, "ann", 'a"b\\c', "line\nINFO forged", "sep\u2028arator", "é" * 255])
def test_a_servers_direct_json_line_is_the_formatters_object(user_id):
    """`todo-api serve` writes access lines without building a record: the same object,
    whatever the user id holds, one line each."""
    read, write = os.pipe()
    lines = DirectAccessLines(write)
    exchange = Exchange("req-7", TRACE, "_OTHER", 0.0, "/api/{user_id}/tasks/{task_id}", user_id, 404, 52,
                        0.0123456, "hit")
    lines.write(exchange)
    lines.flush()
    os.close(write)
    written = os.read(read, 1 << 16)
    os.close(read)
    assert written.count(b"\n") == 1 and written.endswith(b"\n")
    assert b"\xe2\x80\xa8" not in written
    direct = json.loads(written)
    record = logging.LogRecord("todo_api.access", logging.INFO, __file__, 1, AccessLine(exchange), (), None)
    record.exchange, record.request_id, record.trace_id = exchange, "req-7", TRACE
    formatted = json.loads(JsonFormatter().format(record))
    assert direct.keys() == formatted.keys()
    assert {k: v for k, v in direct.items() if k != "time"} == {k: v for k, v in formatted.items() if k != "time"}
    assert direct["user_id"] == user_id and direct["duration_ms"] == 12.346


def test_a_failed_jwks_fetch_logs_once_with_the_request_id(client, frontend_factory, caplog):
    issuer = Issuer()
    try:
        api = frontend_factory(client.name, better_auth_url=issuer.url)
        issuer.down = True
        caplog.set_level(logging.INFO, logger="todo_api")
        user = new_user_id()
        token = issuer.sign(SigningKey("kid-x", "ed25519"), user)
        answer = request(api, "GET", f"/api/{user}/stats",
                         headers={"Authorization": f"Bearer {token}", "X-Request-ID": "access-10"})
        assert answer.status == 503
        warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
        assert [(record.getMessage(), record.request_id) for record in warnings] == [
            (f'signing keys not fetched from "{issuer.url}/api/auth/jwks": "HTTPError: HTTP Error 503: '
             'Service Unavailable"', "access-10")]
        assert token not in formatted(caplog)
    finally:
        issuer.close()
