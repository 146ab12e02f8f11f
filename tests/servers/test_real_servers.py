"""`todo-api serve` as a real process on a loopback port, for each frontend and server.

These drive the production servers (granian, uvicorn) over real HTTP, including a
raw request target ("//health") that in-process test clients cannot send, and the
embedded mode's promise: the data and the development token survive a restart.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest

from tests.helpers import SECRET, make_token, new_user_id
from tests.served import FRONTENDS, TODO_API, Server, call
from todo_api.serve.frontends import FRONTENDS as FRONTEND_TABLE


@pytest.mark.parametrize("frontend, server_name",
                         [(frontend.name, name) for frontend in FRONTEND_TABLE.values() for name in frontend.servers])
def test_served_api_over_http(frontend, server_name, database_url, tmp_path):
    server = Server(frontend, tmp_path, {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET},
                    workers=2, server=server_name)
    try:
        assert any("2 worker(s)" in line and "up to 48 database connections" in line for line in server.lines)
        user = new_user_id()
        auth = {"Authorization": f"Bearer {make_token(user)}", "Content-Type": "application/json"}
        tasks = f"/api/{user}/tasks"
        status, headers, body = call(server.port, "POST", tasks, auth,
                                     json.dumps({"title": "Served", "priority": "high", "category": "work"}))
        assert status == 201, body
        task = json.loads(body)
        assert headers["location"] == f"{tasks}/{task['id']}"
        chunked = json.dumps({"title": "Chunked", "priority": "low", "category": "home"}).encode()
        status, _, body = call(server.port, "POST", tasks, auth, chunked, chunked=True)
        assert (status, json.loads(body)["title"]) == (201, "Chunked"), body
        status, _, body = call(server.port, "PATCH", f"{tasks}/{task['id']}/complete", auth)
        assert (status, json.loads(body)["completed"]) == (200, True)
        status, _, body = call(server.port, "GET", f"/api/{user}/stats", auth)
        assert (json.loads(body)["completed"], json.loads(body)["total"]) == (1, 2)
        assert call(server.port, "GET", tasks)[0] == 401
        assert call(server.port, "GET", "/api/someone-else/tasks", auth)[0] == 403
        status, _, body = call(server.port, "POST", tasks, auth, b"{oops")
        assert status == 422 and json.loads(body)["detail"][0]["loc"] == ["body"]
        status, _, body = call(server.port, "POST", tasks, auth, b"x" * (200 * 1024))
        assert status == 413 and "detail" in json.loads(body)
        for raw_path in ["/health/", "//health", "/%2e%2e/etc/passwd", "/api/u/tasks/..%2f..%2fhealth",
                         f"/api/{user}/../{user}/stats", "/%00"]:
            status, headers, body = call(server.port, "GET", raw_path, auth)
            assert (status, json.loads(body)) == (404, {"detail": "Not Found"}), raw_path
        seams_as_in_process(server.port, user, auth, server_name)
        status, headers, _ = call(server.port, "OPTIONS", tasks,
                                  {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "PUT"})
        assert (status, headers["access-control-allow-origin"]) == (204, "http://localhost:3000")
        status, headers, body = call(server.port, "DELETE", f"{tasks}/{task['id']}", auth)
        assert (status, body) == (204, b"")
        assert call(server.port, "GET", "/ready")[0] == 200
    finally:
        assert server.stop() == 0, "\n".join(server.lines)


LOWER_CASE_METHOD = {
    "granian": 405,  # passed on as sent: "get" is not GET (RFC 9110 section 9.1), the core says 405
    "uvicorn": 400,  # httptools refuses it before the app
}
"""What `get /api/{user}/stats` answers under each server (docs/security.md)."""


def seams_as_in_process(port, user, auth, server_name):
    """The seam rules of tests/api/test_seams.py hold through the real server too,
    except where the server itself decides first (a method in lower case)."""
    stats = f"/api/{user}/stats"
    assert call(port, "GET", f"/api/{user}%2Fstats", auth)[0] == 200  # decoded before routing
    assert call(port, "GET", f"/api/{user}/tasks", auth, b'{"ignored": true}')[0] == 200  # a GET body
    assert call(port, "get", stats, auth)[0] == LOWER_CASE_METHOD[server_name]
    not_utf8 = [  # bytes that are not UTF-8, in each part of a request: a 4xx, never a 500
        ("GET", stats, {"Authorization": "Bearer \xff\xfe"}, None, 401),
        ("GET", stats, {**auth, "X-Anything": "\xff"}, None, 200),
        ("GET", f"/api/{user}/tasks?search=%ff", auth, None, 422),
        ("POST", f"/api/{user}/tasks", auth, b'{"title": "\xff", "priority": "low", "category": "work"}', 422),
    ]
    for method, path, headers, body, expected in not_utf8:
        status, _, answer = call(port, method, path, headers, body)
        assert (status, "detail" in json.loads(answer) or status == 200) == (expected, True), (path, answer)
    _, got, body = call(port, "GET", stats, auth)
    status, head, nothing = call(port, "HEAD", stats, auth)
    assert (status, head["content-length"], nothing) == (200, got["content-length"], b"")
    assert int(got["content-length"]) == len(body)


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_embedded_mode_keeps_data_and_dev_token_across_restarts(frontend, tmp_path):
    first = Server(frontend, tmp_path, {})
    try:
        curl = next(line for line in first.lines if line.startswith("curl "))
        token = re.search(r"Bearer ([\w.-]+)", curl).group(1)
        path = re.search(r"http://127\.0\.0\.1:\d+(/\S+)", curl).group(1)
        auth = {"Authorization": f"Bearer {token}"}
        status, _, body = call(first.port, "GET", path, auth)  # the printed line works as printed
        assert (status, json.loads(body)) == (200, [])
        status, _, body = call(first.port, "POST", path, auth,
                               json.dumps({"title": "Survives", "priority": "low", "category": "home"}))
        assert status == 201, body
    finally:
        assert first.stop() == 0, "\n".join(first.lines)
    assert (tmp_path / ".todo-api" / "pgdata" / "PG_VERSION").exists()
    assert (tmp_path / ".todo-api" / "dev-secret").exists()

    second = Server(frontend, tmp_path, {})
    try:
        status, _, body = call(second.port, "GET", path, auth)
        assert status == 200
        assert [task["title"] for task in json.loads(body)] == ["Survives"]
    finally:
        assert second.stop() == 0, "\n".join(second.lines)


def test_a_server_that_cannot_serve_the_frontend_is_refused(tmp_path, database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET}
    result = subprocess.run([TODO_API, "serve", "--frontend", "flask", "--server", "uvicorn"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "cannot serve the flask frontend" in result.stderr


def test_configuration_error_is_one_clear_line(tmp_path, database_url):
    env = {k: v for k, v in os.environ.items() if k not in {"BETTER_AUTH_SECRET", "BETTER_AUTH_URL"}}
    result = subprocess.run([TODO_API, "serve"], cwd=tmp_path, env={**env, "DATABASE_URL": database_url},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "todo-api: configuration error: neither BETTER_AUTH_URL nor BETTER_AUTH_SECRET is set: "
        "set BETTER_AUTH_URL to your Better Auth server (its JWKS verifies tokens) "
        "or BETTER_AUTH_SECRET to its HS256 secret"
    ]


TOKEN_SETTINGS = {"BETTER_AUTH_SECRET", "BETTER_AUTH_URL", "JWKS_URL"}


def test_token_command_signs_with_the_configured_secret(tmp_path):
    import jwt

    env = {**os.environ, "BETTER_AUTH_SECRET": SECRET, "DATABASE_URL": "postgresql://unused/x"}
    result = subprocess.run([TODO_API, "token", "ann", "--ttl", "120"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60, check=True)
    claims = jwt.decode(result.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["sub"] == "ann"
    assert 100 < claims["exp"] - time.time() <= 120


def test_migrate_command_needs_only_the_database(tmp_path, create_database):
    url = create_database(migrated=False)
    env = {key: value for key, value in os.environ.items() if key not in TOKEN_SETTINGS}
    env["DATABASE_URL"] = url
    first = subprocess.run([TODO_API, "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=60, check=True)
    assert "0001_create_tasks" in first.stdout
    again = subprocess.run([TODO_API, "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=60, check=True)
    assert "nothing" in again.stdout


def test_serve_warns_when_postgresql_cannot_take_every_connection(database_url, tmp_path):
    env = {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET, "DB_POOL_MAX_SIZE": "400"}
    server = Server("quart", tmp_path, env, workers=1)
    try:
        assert any("up to 400 database connections" in line for line in server.lines)
        assert any("warning: PostgreSQL accepts" in line and "fewer than the 400" in line for line in server.lines)
    finally:
        assert server.stop() == 0, "\n".join(server.lines)


def test_schemathesis_against_a_served_api(database_url, tmp_path):
    """The in-process run (tests/api/test_schemathesis.py), once over real HTTP through
    the default server of the default frontend: what the server adds must conform too."""
    import schemathesis

    from tests.api.test_schemathesis import GenerationMode, every_operation_conforms, prepared

    server = Server("flask", tmp_path, {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET})
    try:
        schema = prepared(schemathesis.openapi.from_url(f"http://127.0.0.1:{server.port}/openapi.json"))
        every_operation_conforms(schema, max_examples=15, modes=list(GenerationMode))
    finally:
        assert server.stop() == 0, "\n".join(server.lines)
