"""Allowed origins get the CORS headers; any other origin gets none."""

from tests.api.clients import request

ALLOWED = "http://localhost:3000"
PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"}


def cors_headers(result):
    return {k: v for k, v in result.headers.items() if k.startswith("access-control-")}


def test_preflight_from_an_allowed_origin(client, user):
    result = request(client, "OPTIONS", user.tasks, headers={"Origin": ALLOWED, **PREFLIGHT})
    assert result.status == 204
    assert cors_headers(result) == {
        "access-control-allow-origin": ALLOWED,
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET, POST, PUT, DELETE, PATCH, OPTIONS",
        "access-control-allow-headers": ("Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, "
                                         "X-Request-ID, traceparent"),
        "access-control-max-age": "600",
    }
    assert "Origin" in result.header("vary")


def test_preflight_needs_no_token(client, user):
    result = request(client, "OPTIONS", user.task("00000000-0000-0000-0000-000000000000", "/complete"),
                     headers={"Origin": ALLOWED, "Access-Control-Request-Method": "PATCH"})
    assert result.status == 204
    assert result.header("access-control-allow-origin") == ALLOWED


def test_preflight_from_another_origin_gets_no_cors_headers(client, user):
    result = request(client, "OPTIONS", user.tasks, headers={"Origin": "https://evil.example", **PREFLIGHT})
    assert cors_headers(result) == {}


def test_actual_requests_from_an_allowed_origin(client, user):
    result = request(client, "POST", user.tasks, headers={**user.headers, "Origin": ALLOWED},
                     json={"title": "t", "priority": "low", "category": "work"})
    assert result.status == 201
    assert cors_headers(result) == {
        "access-control-allow-origin": ALLOWED,
        "access-control-allow-credentials": "true",
        "access-control-expose-headers":
            "ETag, Link, Location, Retry-After, WWW-Authenticate, X-Request-ID, X-Truncated",
    }
    # errors carry them too, so the browser lets the app read the message
    denied = request(client, "GET", user.tasks, headers={"Origin": ALLOWED})
    assert denied.status == 401
    assert denied.header("access-control-allow-origin") == ALLOWED


def test_actual_requests_from_another_origin_get_none(client, user):
    result = request(client, "GET", user.tasks, headers={**user.headers, "Origin": "http://localhost:3001"})
    assert result.status == 200
    assert cors_headers(result) == {}


def test_configured_origins_replace_the_default(frontend_factory, client, user):
    custom = frontend_factory(client.name, cors_origins=("https://app.example.com",))
    allowed = request(custom, "GET", "/", headers={"Origin": "https://app.example.com"})
    assert allowed.header("access-control-allow-origin") == "https://app.example.com"
    assert request(custom, "GET", "/", headers={"Origin": ALLOWED}).header("access-control-allow-origin") is None


def test_every_answer_says_how_it_may_be_cached(client, user):
    """A user's data: a browser may keep it but asks again first, and it varies with the
    token; everything else is asked for again too. Said on errors and 304s alike."""
    task = request(client, "POST", user.tasks, headers=user.headers,
                   json={"title": "t", "priority": "low", "category": "work"})
    listed = request(client, "GET", user.tasks, headers=user.headers)
    unchanged = request(client, "GET", user.tasks, headers={**user.headers, "If-None-Match": listed.header("etag")})
    denied = request(client, "GET", user.stats)
    private = [task, listed, unchanged, denied, request(client, "GET", user.stats, headers=user.headers)]
    assert [(each.status, each.header("cache-control"), each.header("vary")) for each in private] == [
        (status, "private, no-cache", "Origin, Authorization") for status in (201, 200, 304, 401, 200)]
    shared = [request(client, "GET", path) for path in ("/health", "/openapi.json", "/nowhere")]
    assert [(each.header("cache-control"), each.header("vary")) for each in shared] == [("no-cache", "Origin")] * 3
