"""What both frontends share, alone: where the API sits in a URL map, the request's head
read from a WSGI environ or an ASGI scope, and the answer to a framework's exception."""

import asyncio
import logging

import pytest
from werkzeug.exceptions import RequestEntityTooLarge, RequestTimeout

from core import Api, Request
from core.auth import Authenticator
from todo_api.glue.asgi import receive_body, scope_headers, scope_path
from todo_api.glue.failures import failure_response
from todo_api.glue.mounting import normalized_prefix, path_below, url_rules
from todo_api.glue.wsgi import environ_headers, status_line, wsgi_text

API = Api(Authenticator(secret="s" * 32))


@pytest.mark.parametrize("given, prefix", [("", ""), ("/", ""), ("/todo", "/todo"), ("/todo/", "/todo")])
def test_a_prefix_is_normalized(given, prefix):
    assert normalized_prefix(given) == prefix


def test_a_prefix_must_start_with_a_slash():
    with pytest.raises(ValueError, match="must start with '/'"):
        normalized_prefix("todo")


def test_the_rules_claim_a_prefix_whole_or_the_api_s_roots_or_everything():
    assert url_rules("/todo", ["", "api"]) == ["/todo", "/todo/<todo_api_rest:rest>"]
    assert url_rules("", ["", "api"]) == ["/", "/api", "/api/<todo_api_rest:rest>"]
    assert url_rules("", ["", "api"], standalone=True) == ["/<todo_api_rest:rest>"]


def test_the_path_below_a_prefix_keeps_doubled_slashes():
    assert path_below("/todo//health", "/todo") == "//health"
    assert path_below("/todo", "/todo") == "/"


def test_wsgi_headers_come_straight_from_the_environ():
    environ = {"HTTP_X_REQUEST_ID": "r1", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "",
               "HTTP_AUTHORIZATION": "Bearer t", "wsgi.input": None}
    assert environ_headers(environ) == {"x-request-id": "r1", "content-type": "application/json",
                                        "authorization": "Bearer t"}


def test_a_wsgi_path_is_decoded_as_utf8_as_werkzeug_does():
    assert wsgi_text("/api/j\u00c3\u00a9r\u00c3\u00b4me") == "/api/jérôme"
    assert wsgi_text("/\u00ff") == "/\ufffd"  # not UTF-8: replaced, never an error


def test_a_status_line_is_werkzeug_s():
    assert (status_line(200), status_line(422), status_line(599)) == (
        "200 OK", "422 UNPROCESSABLE ENTITY", "599 UNKNOWN")


def test_asgi_headers_and_path_come_from_the_scope():
    scope = {"headers": [(b"X-Request-ID", b"r1"), (b"accept", b"a"), (b"accept", b"b")],
             "path": "/todo/api/ann/tasks", "root_path": "/todo"}
    assert scope_headers(scope) == {"x-request-id": "r1", "accept": "a, b"}
    assert scope_path(scope) == "/api/ann/tasks"


def test_an_asgi_body_is_read_up_to_its_limit_and_a_slow_one_is_a_408():
    async def parts(*chunks, stall=False):
        messages = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]

        async def receive():
            if messages:
                return messages.pop(0)
            if stall:
                await asyncio.sleep(10)
            return {"type": "http.request", "body": b"", "more_body": False}
        return receive

    async def go():
        assert await receive_body(await parts(b"ab", b"cd"), 10, 1.0) == b"abcd"
        assert await receive_body(await parts(b"abcdef", b"gh"), 4, 1.0) == b"abcd"
        with pytest.raises(RequestTimeout):
            await receive_body(await parts(b"ab", stall=True), 10, 0.05)

    asyncio.run(go())


def test_a_framework_s_http_error_keeps_its_status_and_anything_else_is_a_logged_500(caplog):
    request = Request("POST", "/api/ann/tasks")
    too_large = failure_response(API, request, API.begin(request), RequestEntityTooLarge(), frontend="Test")
    assert too_large.status == 413
    with caplog.at_level(logging.ERROR, logger="todo_api"):
        try:
            raise RuntimeError("boom")
        except RuntimeError as error:
            broken = failure_response(API, request, API.begin(request), error, frontend="Test")
    assert (broken.status, broken.body) == (500, b'{"detail":"Internal Server Error"}')
    assert "unexpected error in the Test frontend" in caplog.text and "boom" in caplog.text
