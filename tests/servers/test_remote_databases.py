"""`todo-api serve` against the databases teams deploy on: TLS-only, and behind PgBouncer.

Real server processes (2 workers, each frontend's default server), zero configuration
beyond DATABASE_URL.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import SECRET, make_token, new_user_id
from tests.served import FRONTENDS, Server, call


def exercise(port: int) -> None:
    user = new_user_id()
    auth = {"Authorization": f"Bearer {make_token(user)}", "Content-Type": "application/json"}
    tasks = f"/api/{user}/tasks"
    assert call(port, "GET", "/ready")[0] == 200

    def one(n: int) -> int:
        if n % 3 == 0:
            body = json.dumps({"title": f"t{n}", "priority": "low", "category": "home"})
            return call(port, "POST", tasks, auth, body)[0]
        return call(port, "GET", tasks if n % 3 == 1 else f"/api/{user}/stats", auth)[0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(one, range(150)))
    assert set(statuses) <= {200, 201}, statuses
    status, _, body = call(port, "GET", f"/api/{user}/stats", auth)
    assert json.loads(body)["total"] == statuses.count(201)


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_served_over_tls_with_verify_full(frontend, tls_postgres, tmp_path):
    url = tls_postgres.url("verify-full", host="localhost", ca_file=tls_postgres.ca_file)
    server = Server(frontend, tmp_path, {"DATABASE_URL": url, "BETTER_AUTH_SECRET": SECRET}, workers=2)
    try:
        exercise(server.port)
    finally:
        assert server.stop() == 0, "\n".join(server.lines)


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_served_through_pgbouncer_in_transaction_mode(frontend, pooled_database_url, tmp_path):
    server = Server(frontend, tmp_path, {"DATABASE_URL": pooled_database_url, "BETTER_AUTH_SECRET": SECRET},
                    workers=2)
    try:
        exercise(server.port)
        assert not any("Traceback" in line or " 500 " in line for line in server.lines), "\n".join(server.lines)
    finally:
        assert server.stop() == 0, "\n".join(server.lines)
