"""End to end with the real thing: a Better Auth server (npm `better-auth` and its jwt
plugin, on Node) issues a token for a user who signed up over HTTP; both frontends accept
it through Better Auth's JWKS. Better Auth and the API share one database, as they do in
a deployment, so the user's tasks also follow the user's deletion.

Needs node and npm; without them the test is skipped and says so.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from storage.migrate import migrate
from tests.api.clients import request

SERVER_DIR = Path(__file__).parent.parent / "e2e_better_auth"


def node_url(conninfo: str) -> str:
    """The conninfo as a URL node-postgres understands (a socket directory goes in ?host=)."""
    parts = conninfo_to_dict(conninfo)
    user = quote(str(parts.get("user", "postgres")))
    password = f":{quote(str(parts['password']))}" if parts.get("password") else ""
    host, port = str(parts.get("host", "localhost")), str(parts.get("port", "5432"))
    if host.startswith("/"):
        return f"postgresql://{user}{password}@localhost:{port}/{parts['dbname']}?host={host}"
    return f"postgresql://{user}{password}@{host}:{port}/{parts['dbname']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # type: ignore[no-any-return]


def post_json(url: str, body: dict[str, Any], origin: str) -> tuple[dict[str, Any], Any]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Origin": origin})
    with urllib.request.urlopen(req, timeout=20) as response:
        return json.loads(response.read()), response.headers


def get_json(url: str, headers: dict[str, str]) -> tuple[dict[str, Any], Any]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=20) as response:
        return json.loads(response.read()), response.headers


@pytest.fixture(scope="session")
def better_auth_installed() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed to run a real Better Auth server; install Node.js 20+")
    if not (SERVER_DIR / "node_modules" / "better-auth").is_dir():
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SERVER_DIR,
                       check=True, timeout=300)
    return SERVER_DIR


@pytest.fixture(scope="session")
def better_auth(better_auth_installed: Path, create_database: Any) -> Iterator[dict[str, str]]:
    """A running Better Auth server and the database it shares with the API."""
    database = create_database(migrated=False)
    port = free_port()
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": node_url(database),
           "BETTER_AUTH_SECRET": "e2e-better-auth-secret-" + "b" * 32}
    process = subprocess.Popen(["node", "server.mjs"], cwd=better_auth_installed, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first_line = process.stdout.readline().strip()  # type: ignore[union-attr]
    if not first_line.startswith("ready "):
        process.kill()
        rest = process.stdout.read()  # type: ignore[union-attr]
        raise AssertionError(f"Better Auth did not start: {first_line}\n{rest}")
    migrate(database)  # after Better Auth's tables exist: tasks get their foreign key to "user"
    yield {"url": first_line.split(" ", 1)[1], "database": database}
    process.terminate()
    process.wait(timeout=10)


def sign_up_and_get_jwt(base: str, email: str) -> tuple[str, str, str]:
    """Sign up over Better Auth's HTTP API; return the user id, a JWT, and the header JWT."""
    body, headers = post_json(f"{base}/api/auth/sign-up/email",
                              {"email": email, "password": "correct-horse-battery-staple", "name": "E2E"}, base)
    cookie = "; ".join(c.split(";", 1)[0] for c in headers.get_all("Set-Cookie"))
    token, _ = get_json(f"{base}/api/auth/token", {"Cookie": cookie})
    _, session_headers = get_json(f"{base}/api/auth/get-session", {"Cookie": cookie})
    return body["user"]["id"], token["token"], session_headers.get("set-auth-jwt", "")


def test_real_better_auth_tokens_work_on_both_frontends(better_auth, frontend_factory, client):
    api = frontend_factory(client.name, database_url=better_auth["database"], better_auth_secret=None,
                           better_auth_url=better_auth["url"])
    user_id, token, header_token = sign_up_and_get_jwt(better_auth["url"], f"{client.name}@example.com")
    auth = {"Authorization": f"Bearer {token}"}

    assert request(api, "GET", f"/api/{user_id}/tasks", headers=auth).status == 200
    created = request(api, "POST", f"/api/{user_id}/tasks", headers=auth,
                      json={"title": "From Better Auth", "priority": "high", "category": "work"})
    assert created.status == 201
    assert created.json()["userId"] == user_id
    assert request(api, "GET", "/api/somebody-else/tasks", headers=auth).status == 403
    assert header_token, "get-session should carry a set-auth-jwt header"
    assert request(api, "GET", f"/api/{user_id}/stats",
                   headers={"Authorization": f"Bearer {header_token}"}).status == 200

    with psycopg.connect(better_auth["database"], autocommit=True) as conn:
        conn.execute('DELETE FROM "user" WHERE id = %s', (user_id,))
        left = conn.execute('SELECT count(*) FROM tasks WHERE "userId" = %s', (user_id,)).fetchone()
    assert left == (0,)  # the tasks followed their owner
