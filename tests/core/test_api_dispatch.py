"""The core alone: routing, auth decisions, error shapes, and what reaches the database."""

import json

import pytest

from core import Api, Request
from core.auth import Authenticator
from core.http import MAX_BODY_BYTES, Response
from core.plan import Query, ReadBody, StorageFailure, advance
from tests.core.drive import drive
from tests.helpers import SECRET, make_token

API = Api(Authenticator(secret=SECRET), ["http://localhost:3000"])
TASK_ID = "6f1c1f55-0000-4000-8000-000000000001"


def call(method, path, *, user="alice", token_user=None, query=b"", body=b"", answer=None, headers=None):
    all_headers = dict(headers or {})
    if token_user is not False:
        all_headers["authorization"] = f"Bearer {make_token(token_user or user)}"
    return drive(API.handle(Request(method, path, query, all_headers, body)), answer)


def test_public_routes_ask_nothing_of_the_database():
    for path in ["/", "/health"]:
        response, asked = call("GET", path, token_user=False)
        assert response.status == 200
        assert asked == []


def test_rejected_requests_never_reach_the_database():
    cases = [
        call("GET", "/api/alice/tasks", token_user=False),
        call("GET", "/api/alice/tasks", token_user="bob"),
        call("GET", "/api/alice/tasks", query=b"sort_by=bogus"),
        call("POST", "/api/alice/tasks", body=b"{}"),
        call("GET", "/api/alice/tasks/not-a-uuid"),
        call("POST", "/api/alice/tasks", body=b"x" * 70000),
    ]
    assert [(r.status, asked) for r, asked in cases] == [
        (401, []), (403, []), (422, []), (422, []), (404, []), (413, []),
    ]


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/api/alice/tasks", b""),
    ("POST", "/api/alice/tasks", b'{"title": "t", "priority": "low", "category": "work"}'),
    ("GET", f"/api/alice/tasks/{TASK_ID}", b""),
    ("PUT", f"/api/alice/tasks/{TASK_ID}", b'{"title": "t"}'),
    ("DELETE", f"/api/alice/tasks/{TASK_ID}", b""),
    ("PATCH", f"/api/alice/tasks/{TASK_ID}/complete", b""),
    ("GET", "/api/alice/stats", b""),
])
def test_every_task_statement_is_scoped_to_the_token_subject(method, path, body):
    rows = {"GET": [("{}",)], "POST": [("id", "{}")], "PUT": [("{}",)], "DELETE": [("id",)],
            "PATCH": [("{}",)]}[method]
    if path.endswith("stats"):
        rows = [("{}",)]
    _, asked = call(method, path, body=body, answer=lambda q: rows)
    assert len(asked) == (2 if method == "DELETE" else 1)  # a delete, then its tombstones pruned
    assert all("alice" in query.params for query in asked)
    if method == "POST":  # the owner is the first value inserted
        assert asked[0].sql.startswith('INSERT INTO tasks ("userId",')
        assert asked[0].params[0] == "alice"
    else:  # the value bound to the placeholder after "userId" = is the token's subject
        sql = asked[0].sql
        assert '"userId" = %s' in sql
        position = sql[: sql.index('"userId" = %s')].count("%s")
        assert asked[0].params[position] == "alice"


def test_missing_row_is_task_not_found():
    response, _ = call("PATCH", f"/api/alice/tasks/{TASK_ID}/complete", answer=lambda q: [])
    assert response.status == 404
    assert json.loads(response.body) == {"detail": "Task not found"}


def test_unreachable_database_is_503_and_other_failures_a_bare_500():
    down, _ = call("GET", "/api/alice/stats", answer=lambda q: StorageFailure(unavailable=True))
    assert down.status == 503
    assert ("Retry-After", "5") in down.headers
    broken, _ = call("GET", "/api/alice/stats",
                     answer=lambda q: StorageFailure(unavailable=False, sqlstate="42P01", message="no table"))
    assert broken.status == 500
    assert json.loads(broken.body) == {"detail": "Internal Server Error"}


@pytest.mark.parametrize("sqlstate", ["57014", "57P01", "57P03", "08006", "53300", "40001", "40P01", "55P03", "25006"])
def test_failures_that_pass_with_time_are_503(sqlstate):
    """A cancelled (timed-out) statement, a restart, too many connections, a lock or a failover."""
    busy, _ = call("GET", "/api/alice/stats", answer=lambda q: StorageFailure(unavailable=False, sqlstate=sqlstate))
    assert (busy.status, dict(busy.headers).get("Retry-After")) == (503, "5")


@pytest.mark.parametrize("sqlstate", ["42P01", "22001", "23505", "54000", "XX000", None])
def test_failures_that_a_retry_cannot_fix_are_500(sqlstate):
    broken, _ = call("GET", "/api/alice/stats", answer=lambda q: StorageFailure(unavailable=False, sqlstate=sqlstate))
    assert broken.status == 500


def test_an_unexpected_exception_is_a_bare_500():
    response, _ = call("GET", "/api/alice/stats", answer=lambda q: [])  # no row: IndexError inside
    assert response.status == 500
    assert json.loads(response.body) == {"detail": "Internal Server Error"}
    assert b"Traceback" not in response.body


def test_created_task_location_uses_the_returned_id():
    response, _ = call("POST", "/api/alice/tasks", body=b'{"title": "t", "priority": "low", "category": "work"}',
                       answer=lambda q: [(TASK_ID, '{"id": "x"}')])
    assert response.status == 201
    assert ("Location", f"/api/alice/tasks/{TASK_ID}") in response.headers
    assert response.body == b'{"id": "x"}'


def test_list_joins_the_rendered_rows_into_an_array_tagged_with_the_revision():
    response, _ = call("GET", "/api/alice/tasks", answer=lambda q: [(7, '{"a":1}'), (7, '{"b":2}')])
    assert json.loads(response.body) == [{"a": 1}, {"b": 2}]
    assert dict(response.headers)["ETag"] == '"r7-1000"'


def test_a_list_poll_with_the_current_etag_reads_only_the_revision():
    response, asked = call("GET", "/api/alice/tasks", headers={"if-none-match": '"r7-1000"'},
                           answer=lambda q: [(7,)])
    assert (response.status, response.body, len(asked)) == (304, b"", 1)
    assert "task_revisions" in asked[0].sql and "FROM tasks" not in asked[0].sql


def test_head_drops_the_body_and_keeps_the_status():
    response, _ = call("HEAD", "/", token_user=False)
    assert (response.status, response.body) == (200, b"")


def test_cors_headers_on_errors_from_allowed_origins_only():
    allowed, _ = call("GET", "/nope", headers={"origin": "http://localhost:3000"})
    assert ("Access-Control-Allow-Origin", "http://localhost:3000") in allowed.headers
    other, _ = call("GET", "/nope", headers={"origin": "http://elsewhere"})
    assert not [h for h in other.headers if h[0].startswith("Access-Control")]


def first_step(method, path, headers=None, body=None, base_path=""):
    """What the plan asks for first, for a request whose body is not read yet."""
    all_headers = {"authorization": f"Bearer {make_token('alice')}", **(headers or {})}
    return advance(API.handle(Request(method, path, b"", all_headers, body, base_path)), None)


def test_only_post_put_and_patch_ask_for_the_body():
    task = f"/api/alice/tasks/{TASK_ID}"
    for method, path in [("GET", "/api/alice/tasks"), ("HEAD", "/api/alice/stats"), ("DELETE", task)]:
        assert isinstance(first_step(method, path, {"content-length": "10"}), Query), method
    for method, path in [("POST", "/api/alice/tasks"), ("PUT", task), ("PATCH", f"{task}/complete")]:
        assert first_step(method, path, {"content-length": "10"}) == ReadBody(MAX_BODY_BYTES + 1), method


def test_a_length_over_the_limit_or_not_a_number_is_refused_before_the_body_is_asked_for():
    for length, status in [(str(MAX_BODY_BYTES + 1), 413), ("9" * 5000, 413), ("0" * 50 + "5", None),
                           ("5, 5", 400), ("0x10", 400), ("", 400)]:
        step = first_step("POST", "/api/alice/tasks", {"content-length": length})
        if status is None:
            assert isinstance(step, ReadBody)
        else:
            assert isinstance(step, Response) and step.status == status, length


def test_the_location_starts_with_the_base_path():
    body = b'{"title": "t", "priority": "low", "category": "work"}'
    plan = API.handle(Request("POST", "/api/alice/tasks", b"", {"authorization": f"Bearer {make_token('alice')}"},
                              body, base_path="/outer/to do"))
    response, _ = drive(plan, lambda query: [(TASK_ID, "{}")])
    assert dict(response.headers)["Location"] == f"/outer/to%20do/api/alice/tasks/{TASK_ID}"


def test_dot_and_empty_segments_name_no_route():
    for path in ["/api/alice/../alice/stats", "/api/./stats", "/api/alice/tasks/.", "//health", "/health/"]:
        response, asked = call("GET", path)
        assert (response.status, asked) == (404, []), path
