"""The routes outside /api, and what unknown routes and wrong methods answer."""

from datetime import datetime

from core.version import __version__
from tests.api.clients import request


def test_root_names_the_api_and_version(client):
    result = request(client, "GET", "/")
    assert result.status == 200
    assert result.header("content-type") == "application/json"
    assert result.json() == {"message": "Todo API", "version": __version__}


def test_health_is_liveness_with_an_rfc3339_timestamp(client):
    result = request(client, "GET", "/health")
    assert result.status == 200
    body = result.json()
    assert body["status"] == "healthy"
    assert datetime.fromisoformat(body["timestamp"]).utcoffset() is not None


def test_ready_when_the_database_answers(client):
    result = request(client, "GET", "/ready")
    assert result.status == 200
    assert result.json() == {"status": "ready"}


def test_unknown_route_is_a_json_404(client):
    for path in ["/nope", "/api", "/api/u/tasks/x/y/z", "/health/", "/api//tasks", "/api/u/stats/"]:
        result = request(client, "GET", path)
        assert result.status == 404, path
        assert result.json() == {"detail": "Not Found"}


def test_wrong_method_is_a_405_with_allow(client, user):
    result = request(client, "DELETE", "/health")
    assert result.status == 405
    assert result.header("allow") == "GET, HEAD, OPTIONS"
    assert result.json() == {"detail": "Method Not Allowed"}
    result = request(client, "PATCH", user.tasks, headers=user.headers)
    assert result.status == 405
    assert result.header("allow") == "GET, HEAD, OPTIONS, POST"
    result = request(client, "POST", user.task("00000000-0000-0000-0000-000000000000", "/complete"))
    assert result.status == 405
    assert result.header("allow") == "OPTIONS, PATCH"


def test_head_answers_like_get_without_a_body(client, user):
    for path in ["/", user.tasks, "/missing"]:
        got = request(client, "GET", path, headers=user.headers)
        head = request(client, "HEAD", path, headers=user.headers)
        assert (head.status, head.header("content-type")) == (got.status, got.header("content-type"))
        assert head.body == b""
        assert head.header("content-length") == str(len(got.body)) == got.header("content-length")


def test_no_content_has_no_content_length(client, user):
    result = request(client, "OPTIONS", user.tasks)
    assert result.status == 204
    assert result.header("content-length") is None


def test_options_lists_the_allowed_methods(client, user):
    result = request(client, "OPTIONS", user.task("00000000-0000-0000-0000-000000000000"))
    assert result.status == 204
    assert result.header("allow") == "DELETE, GET, HEAD, OPTIONS, PUT"
    assert result.body == b""


def test_methods_no_route_accepts_are_405_or_404_like_any_other(client):
    result = request(client, "PROPFIND", "/health")
    assert result.status == 405
    assert result.header("allow") == "GET, HEAD, OPTIONS"
    assert result.json() == {"detail": "Method Not Allowed"}
    assert request(client, "PROPFIND", "/nowhere").status == 404
