"""Request ids and trace context: on every answer, and on every log line a request causes."""

from __future__ import annotations

import logging
import re
import socket

import pytest

from tests.api.clients import request

GENERATED = re.compile(r"[0-9a-f]{32}")
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_every_answer_carries_a_request_id(client, user):
    answers = [
        request(client, "GET", "/health"),
        request(client, "GET", "/nope"),
        request(client, "PUT", "/health"),
        request(client, "GET", user.tasks),
        request(client, "GET", user.tasks, headers=user.headers),
        request(client, "GET", f"{user.tasks}?sort_by=x", headers=user.headers),
        request(client, "POST", user.tasks, headers=user.headers, body=b"x" * 70_000),
    ]
    ids = [answer.header("x-request-id") for answer in answers]
    assert all(GENERATED.fullmatch(each or "") for each in ids), ids
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("given, kept", [
    ("abc-123", True), ("a" * 128, True), ("req:7/x=y@z~", True),
    ("", False), ("a" * 129, False), ("two words", False), ("é", False), ("a\tb", False),
])
def test_a_clients_request_id_is_kept_only_when_safe(client, user, given, kept):
    answer = request(client, "GET", user.stats, headers={**user.headers, "X-Request-ID": given})
    assert (answer.header("x-request-id") == given) is kept
    assert kept or GENERATED.fullmatch(answer.header("x-request-id"))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("traceparent, trace_id", [
    (f"00-{TRACE}-00f067aa0ba902b7-01", TRACE),
    (f"00-{'0' * 32}-00f067aa0ba902b7-01", "-"),
    ("garbage", "-"),
])
def test_the_log_lines_of_a_request_carry_its_ids(client, user, frontend_factory, caplog, traceparent, trace_id):
    down = frontend_factory(client.name, database_url=f"postgresql://postgres@127.0.0.1:{closed_port()}/x"
                            "?connect_timeout=1", db_pool_timeout_seconds=0.3)
    caplog.set_level(logging.WARNING, logger="todo_api")
    answer = request(down, "GET", user.stats, headers={**user.headers, "traceparent": traceparent})
    assert answer.status == 503
    lines = [record for record in caplog.records if "database unavailable" in record.getMessage()]
    assert lines, [record.getMessage() for record in caplog.records]
    assert {(record.request_id, record.trace_id) for record in lines} == {(answer.header("x-request-id"), trace_id)}
