"""The endpoints' decisions, with the test playing the database: what each answers for
the rows it gets back, and what it asks for (every statement scoped to the user)."""

import json

from core import Api, Request
from core.auth import Authenticator
from core.idempotency import UNIQUE_VIOLATION, body_digest
from core.plan import StorageFailure
from core.routes import Limits
from tests.core.drive import drive
from tests.helpers import SECRET, make_token

TASK_ID = "6f1c1f55-0000-4000-8000-000000000001"
TASK = json.dumps({"id": TASK_ID, "title": "milk", "status": "pending"})
API = Api(Authenticator(secret=SECRET), limits=Limits(max_tasks_per_user=3, list_max_items=2))


CREATE = b'{"title": "milk", "priority": "high", "category": "home"}'


def call(method, path, answer=None, body=b"", **headers):
    headers = {"authorization": f"Bearer {make_token('ann')}",
               **{name.replace("_", "-"): value for name, value in headers.items()}}
    return drive(API.handle(Request(method, path, b"", headers, body)), answer)


def header(response, name):
    return dict((key.lower(), value) for key, value in response.headers).get(name)


def test_every_statement_carries_the_user():
    for method, path, body in [("GET", "/api/ann/tasks", b""), ("GET", f"/api/ann/tasks/{TASK_ID}", b""),
                               ("DELETE", f"/api/ann/tasks/{TASK_ID}", b""), ("GET", "/api/ann/stats", b""),
                               ("POST", "/api/ann/tasks", CREATE)]:
        _, asked = call(method, path, lambda query: [], body)
        assert asked and all("ann" in query.params for query in asked), (method, path)


def test_a_task_no_row_names_is_a_404_and_one_that_is_found_has_an_etag():
    assert call("GET", f"/api/ann/tasks/{TASK_ID}", lambda query: [])[0].status == 404
    found, _ = call("GET", f"/api/ann/tasks/{TASK_ID}", lambda query: [(TASK,)])
    assert (found.status, found.body) == (200, TASK.encode())
    etag = header(found, "etag")
    again, _ = call("GET", f"/api/ann/tasks/{TASK_ID}", lambda query: [(TASK,)], if_none_match=etag)
    assert (again.status, again.body) == (304, b"")


def test_a_create_the_database_refused_for_the_limit_is_a_409_naming_it():
    response, _ = call("POST", "/api/ann/tasks", lambda query: [], CREATE)
    assert response.status == 409
    assert "at most 3 tasks" in json.loads(response.body)["detail"]


def test_a_create_answers_201_with_its_location():
    response, _ = call("POST", "/api/ann/tasks", lambda query: [(TASK_ID, TASK)], CREATE)
    assert (response.status, header(response, "location")) == (201, f"/api/ann/tasks/{TASK_ID}")


def test_an_idempotent_retry_gets_the_first_answer_and_another_body_a_422():
    def first_answer_stored_for(digest):
        def reply(query):  # the insert collides with the key's first use; then its stored answer
            return StorageFailure(False, UNIQUE_VIOLATION) if "INSERT" in query.sql else [(digest, TASK_ID, TASK, False)]
        return reply

    replayed, asked = call("POST", "/api/ann/tasks", first_answer_stored_for(body_digest(CREATE)), CREATE,
                           idempotency_key="k1")
    assert (replayed.status, replayed.body) == (201, TASK.encode())
    assert len(asked) == 2  # nothing else written
    other, _ = call("POST", "/api/ann/tasks", first_answer_stored_for(body_digest(b"{}")), CREATE,
                    idempotency_key="k1")
    assert other.status == 422
    assert json.loads(other.body)["detail"][0]["type"] == "key_reused"


def test_a_list_longer_than_the_limit_is_cut_with_a_link():
    rows = [(7, json.dumps({"id": f"6f1c1f55-0000-4000-8000-00000000000{n}", "createdAt": "2026-12-01T10:00:0"
                            f"{n}Z"})) for n in range(3)]
    response, _ = call("GET", "/api/ann/tasks", lambda query: rows)
    assert len(json.loads(response.body)) == 2
    assert header(response, "x-truncated") == "true"
    assert header(response, "link").startswith("</api/ann/tasks?")
    assert header(response, "etag") == '"r7-2"'


def test_a_poll_with_the_current_list_etag_is_a_304_from_the_revision_alone():
    response, asked = call("GET", "/api/ann/tasks", lambda query: [(7,)], if_none_match='"r7-2"')
    assert response.status == 304 and len(asked) == 1


def test_a_database_failure_is_the_core_s_503_with_retry_after():
    def down(query):
        return StorageFailure(unavailable=True, message="connection refused")
    response, _ = call("GET", "/api/ann/stats", down)
    assert response.status == 503 and header(response, "retry-after")
