"""CORS decisions, without a framework: who gets the allow headers, and when."""

import pytest

from core.cors import ALLOWED_METHODS, EXPOSED_HEADERS, CorsPolicy
from core.http import Request, Response

POLICY = CorsPolicy(frozenset({"https://app.example"}))
ANY = CorsPolicy(frozenset({"*"}))


def headers_of(policy, method="GET", **headers):
    request = Request(method, "/api/ann/tasks", headers={k.replace("_", "-"): v for k, v in headers.items()})
    return dict(policy.apply(request, Response(200)).headers)


def test_a_listed_origin_is_allowed_with_credentials_and_sees_the_exposed_headers():
    headers = headers_of(POLICY, origin="https://app.example")
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert headers["Access-Control-Expose-Headers"] == EXPOSED_HEADERS
    assert headers["Vary"] == "Origin"


@pytest.mark.parametrize("origin", [None, "https://evil.example", "https://app.example.evil", "null"])
def test_any_other_origin_gets_no_allow_header(origin):
    headers = headers_of(POLICY, **({"origin": origin} if origin else {}))
    assert not any(name.startswith("Access-Control-") for name in headers)
    assert headers["Vary"] == "Origin"  # a cache must not serve it to a listed origin


def test_a_wildcard_allows_any_origin_without_credentials():
    headers = headers_of(ANY, origin="https://anyone.example")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in headers


def test_a_preflight_names_methods_headers_and_max_age():
    headers = headers_of(POLICY, "OPTIONS", origin="https://app.example", access_control_request_method="PUT")
    assert headers["Access-Control-Allow-Methods"] == ALLOWED_METHODS
    assert "authorization" in headers["Access-Control-Allow-Headers"].lower()
    assert int(headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Expose-Headers" not in headers


def test_a_refused_preflight_gets_nothing():
    headers = headers_of(POLICY, "OPTIONS", origin="https://evil.example", access_control_request_method="PUT")
    assert not any(name.startswith("Access-Control-") for name in headers)


def test_an_options_request_without_a_requested_method_is_no_preflight():
    headers = headers_of(POLICY, "OPTIONS", origin="https://app.example")
    assert "Access-Control-Allow-Methods" not in headers
    assert headers["Access-Control-Expose-Headers"] == EXPOSED_HEADERS
