"""Rules at the seam between HTTP and the core, decided by the core for every frontend:
which requests have a body and how much of it is read, what a broken Content-Length
means, and which odd paths name nothing. The equivalence test checks that every
frontend answers these byte for byte alike; this one says what the answer is.

How much of a body was read is the app's own doing on WSGI, so it is checked there.
On ASGI the framework takes the body from the server as it comes, whatever the app
decides (Quart keeps at most its MAX_CONTENT_LENGTH of it unread; docs/embedding.md).
"""

from __future__ import annotations

import pytest

from core.http import MAX_BODY_BYTES
from tests.api.clients import request, wsgi_environ

TASK = b'{"title": "t", "priority": "low", "category": "work"}'
TOO_LARGE = b'{"title": "' + b"x" * (4 * MAX_BODY_BYTES) + b'"}'


def read_by_the_app(client, result) -> int:
    """Bytes of the body the app pulled; 0 where the framework, not the app, pulls (ASGI)."""
    return result.body_read if client.interface == "wsgi" else 0


def test_a_body_on_get_is_never_read(client, user):
    for body in (b'{"title": "ignored"}', TOO_LARGE):
        result = request(client, "GET", user.tasks, headers=user.headers, body=body)
        assert (result.status, result.json(), read_by_the_app(client, result)) == (200, [], 0)


def test_a_content_length_over_the_limit_is_413_before_reading_a_byte(client, user):
    result = request(client, "POST", user.tasks, headers=user.headers, body=TOO_LARGE)
    assert result.status == 413
    assert result.json() == {"detail": f"Request body is larger than {MAX_BODY_BYTES} bytes"}
    assert read_by_the_app(client, result) == 0


def test_a_chunked_body_over_the_limit_is_413_once_the_limit_is_passed(client, user):
    headers = {**user.headers, "Transfer-Encoding": "chunked"}
    result = request(client, "POST", user.tasks, headers=headers, body=TOO_LARGE)
    assert result.json() == {"detail": f"Request body is larger than {MAX_BODY_BYTES} bytes"}
    if client.interface == "wsgi":
        assert MAX_BODY_BYTES < result.body_read <= MAX_BODY_BYTES + 1


def test_a_chunked_body_within_the_limit_is_read_whole(client, user):
    headers = {**user.headers, "Transfer-Encoding": "chunked", "Content-Type": "application/json"}
    result = request(client, "POST", user.tasks, headers=headers, body=TASK)
    assert result.status == 201
    assert result.json()["title"] == "t"


@pytest.mark.parametrize("lengths", [["abc"], ["-1"], ["1e3"], ["+5"], ["٣"], ["53", "53"]])
def test_a_content_length_that_is_not_one_number_is_400(client, user, lengths):
    headers = [*user.headers.items(), *(("Content-Length", value) for value in lengths)]
    result = request(client, "POST", user.tasks, headers=headers, body=TASK)
    assert (result.status, result.json()) == (400, {"detail": "Content-Length must be a single decimal number"})
    assert read_by_the_app(client, result) == 0


def test_a_repeated_content_type_changes_nothing(client, user):
    """The body is JSON whatever Content-Type says: the API reads no other kind."""
    headers = [*user.headers.items(), ("Content-Type", "application/json"), ("Content-Type", "text/plain")]
    assert request(client, "POST", user.tasks, headers=headers, body=TASK).status == 201


def test_a_body_that_is_not_utf8_is_422(client, user):
    result = request(client, "POST", user.tasks, headers=user.headers,
                     body=b'{"title": "\xff\xfe", "priority": "low", "category": "work"}')
    assert result.status == 422
    assert result.json()["detail"][0]["loc"] == ["body"]


def test_odd_paths_name_nothing(client, user):
    for path in ("//health", "/health/", "/health//", f"{user.tasks}/", f"/api/{user.id}%2Ftasks%2F",
                 f"/api/{user.id}/../{user.id}/tasks", f"/api/{user.id}/./tasks", "/api/%2E%2E/tasks",
                 "/api/../health", "/%2e%2e/health", "/api//tasks", "/%00"):
        result = request(client, "GET", path, headers=user.headers)
        assert (result.status, result.json()) == (404, {"detail": "Not Found"}), path


def test_the_path_is_decoded_before_it_is_routed(client):
    """Percent-encoded characters are themselves, and "%2F" is a "/": a WSGI server
    decodes the path before the app sees it, so no frontend could tell them apart."""
    from tests.api.conftest import User

    user = User("ann+bob@example.com")
    assert request(client, "GET", "/api/ann%2Bbob%40example.com/tasks", headers=user.headers).status == 200
    assert request(client, "GET", "/api/ann+bob@example.com%2Ftasks", headers=user.headers).status == 200


def test_head_is_get_without_the_body(client, user):
    got = request(client, "GET", user.stats, headers=user.headers)
    head = request(client, "HEAD", user.stats, headers=user.headers)
    assert (head.status, head.body) == (200, b"")
    assert head.header("content-length") == got.header("content-length") == str(len(got.body))
    assert request(client, "HEAD", "/nope").status == 404


def test_options_answers_allow_for_a_route_and_404_elsewhere(client, user):
    options = request(client, "OPTIONS", user.tasks)
    assert (options.status, options.header("allow"), options.body) == (204, "GET, HEAD, OPTIONS, POST", b"")
    assert request(client, "OPTIONS", "/nope").status == 404


def test_methods_are_case_sensitive(client, user):
    """RFC 9110 section 9.1: "get" is not GET (werkzeug would upper-case it)."""
    result = request(client, "get", user.stats, headers=user.headers)
    assert (result.status, result.header("allow")) == (405, "GET, HEAD, OPTIONS")


def test_a_wsgi_answer_is_handed_over_as_one_list(client, user):
    """PEP 3333 lets an app answer with any iterable of bytes. granian writes a list in one
    piece, and anything else through a Python iterator that its Rust side drives a chunk
    at a time, taking the GIL for each: the Flask frontend answered 3-9% fewer stats
    requests a second that way, in four paired rounds (#21). A HEAD's body stays empty."""
    if client.interface != "wsgi":
        pytest.skip("an ASGI answer is messages, not an iterable")
    app = client.client.application
    for method, expected in (("GET", b"[]"), ("HEAD", b"")):
        environ = wsgi_environ(method, client.base + user.tasks, user.headers, b"")
        answer = app(environ, lambda status, headers, exc_info=None: None)
        assert b"".join(answer) == expected
        if method == "GET":
            assert isinstance(answer, list)
