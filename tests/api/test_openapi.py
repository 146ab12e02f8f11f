"""The published contract: `/openapi.json` and `/docs`, on every frontend and mount.

The document is built from the core's tables; the committed `openapi.json` is what it
answers at the root, so a change to the contract shows in review (regenerate it with
`uv run todo-api openapi > openapi.json`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from openapi_spec_validator import validate

from core.api import ROUTES
from tests.api.clients import request

COMMITTED = Path(__file__).parents[2] / "openapi.json"
TEMPLATE = re.compile(r"\{[^}]+\}")


def served_document(client) -> tuple[bytes, dict]:
    result = request(client, "GET", "/openapi.json")
    assert result.status == 200
    assert result.header("content-type") == "application/json"
    return result.body, result.json()


def test_the_served_document_is_the_committed_one(client):
    body, document = served_document(client)
    assert document["servers"] == [{"url": client.base or "/"}]
    if not client.base:
        assert body == COMMITTED.read_bytes(), "regenerate: uv run todo-api openapi > openapi.json"
    else:
        document["servers"] = [{"url": "/"}]
        assert document == json.loads(COMMITTED.read_bytes())


def test_the_document_is_valid_openapi_3_1(client):
    _, document = served_document(client)
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_the_route_table_and_the_documents_paths_match_both_ways(client):
    _, document = served_document(client)
    table = {(route.pattern, method.lower()) for route in ROUTES for method in route.operations}
    documented = {(path, method) for path, item in document["paths"].items() for method in item
                  if method != "parameters"}
    assert documented == table


def test_every_operation_answers_only_what_it_documents(client, user):
    """A sample of answers, each checked against its operation's documented statuses."""
    _, document = served_document(client)
    paths = document["paths"]
    calls = [
        ("GET", user.tasks, "/api/{user_id}/tasks", {}),
        ("GET", user.tasks + "?sort_by=nope", "/api/{user_id}/tasks", {}),
        ("POST", user.tasks, "/api/{user_id}/tasks", {"title": "t", "priority": "low", "category": "work"}),
        ("POST", user.tasks, "/api/{user_id}/tasks", {"title": ""}),
        ("GET", user.task("00000000-0000-4000-8000-000000000000"), "/api/{user_id}/tasks/{task_id}", {}),
        ("GET", user.stats, "/api/{user_id}/stats", {}),
        ("GET", "/health", "/health", {}),
    ]
    for method, path, template, body in calls:
        result = request(client, method, path, headers=user.headers, json=body or None)
        assert str(result.status) in paths[template][method.lower()]["responses"], (method, path, result.status)
    unauthenticated = request(client, "GET", user.stats)
    assert "401" in paths["/api/{user_id}/stats"]["get"]["responses"] and unauthenticated.status == 401


def test_the_docs_page_and_its_files_are_served_by_the_api(client):
    page = request(client, "GET", "/docs")
    assert page.status == 200 and page.header("content-type") == "text/html; charset=utf-8"
    for link in re.findall(rb'(?:href|src)="([^"]+)"', page.body):
        asset = request(client, "GET", "/" + link.decode())
        assert asset.status == 200 and len(asset.body) > 100, link
        assert asset.header("content-type").startswith(("text/css", "text/javascript"))
    assert b"SwaggerUIBundle" in request(client, "GET", "/docs/init.js").body
    assert not re.search(rb"https?://", page.body), "the page must load nothing from elsewhere"
    assert request(client, "GET", "/docs/../openapi.json").status == 404
    assert request(client, "GET", "/docs/swagger-ui.js.map").status == 404


def test_docs_enabled_false_removes_both(client, frontend_factory):
    quiet = frontend_factory(client.name, docs_enabled=False)
    for path in ("/openapi.json", "/docs", "/docs/swagger-ui.css"):
        assert request(quiet, "GET", path).status == 404, path
    assert request(quiet, "GET", "/health").status == 200
