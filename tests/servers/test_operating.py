"""Operating `todo-api serve` with several workers: JSON log lines, and one scrape that
counts every worker's requests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.load.servers import children_of
from tests.helpers import SECRET, make_token, new_user_id
from tests.served import TODO_API, Server, call
from todo_api.observe.metrics import FLUSH_SECONDS
from todo_api.serve.frontends import FRONTENDS as FRONTEND_TABLE

METRICS_TOKEN = "scrape-" + "s" * 32
REQUESTS = 64


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by name and labels."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, headers, body = call(port, "GET", "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4"), body
    return samples(body.decode())


def json_lines(server: Server) -> list[dict[str, object]]:
    """The API's log lines (the server's own start-up lines are its own format)."""
    return [json.loads(line) for line in server.lines if line.startswith("{")]


@pytest.mark.parametrize("frontend", [frontend.name for frontend in FRONTEND_TABLE.values()])
def test_a_scrape_counts_every_workers_requests_and_every_line_is_json(frontend, database_url, tmp_path):
    server = Server(frontend, tmp_path, {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET,
                                         "LOG_FORMAT": "json", "METRICS_TOKEN": METRICS_TOKEN}, workers=2)
    try:
        user = new_user_id()
        auth = {"Authorization": f"Bearer {make_token(user)}"}
        stats = f"/api/{user}/stats"
        with ThreadPoolExecutor(8) as pool:  # a connection each: the workers share them out
            statuses = list(pool.map(lambda n: call(server.port, "GET", stats, auth)[0], range(REQUESTS)))
        assert statuses == [200] * REQUESTS
        assert call(server.port, "GET", "/metrics")[0] == 401
        time.sleep(2 * FLUSH_SECONDS)  # each worker writes its totals for the others' scrapes

        route = (("method", "GET"), ("route", "/api/{user_id}/stats"), ("status", "200"))
        for _ in range(4):  # whichever worker answers the scrape, it counts all of them
            counted = scrape(server.port)
            assert counted[("http_server_request_duration_seconds_count", route)] == REQUESTS
            assert counted[("http_server_request_duration_seconds_bucket", tuple(sorted((*route, ("le", "+Inf")))))] == REQUESTS
            assert counted[("todo_api_token_cache_lookups_total", (("result", "miss"),))] >= 1
            cache = sum(counted[("todo_api_token_cache_lookups_total", (("result", result),))]
                        for result in ("hit", "miss"))
            assert cache == REQUESTS
            assert 1 <= counted[("http_server_active_requests", ())] <= 2  # scrapes: this one, maybe the last
            assert counted[("todo_api_db_pool_in_use", ())] == 0
            assert counted[("todo_api_db_pool_size", ())] >= 2  # each worker's pool holds one at least

        lines = json_lines(server)
        access = [line for line in lines if line["logger"] == "todo_api.access" and line["route"] == stats.replace(
            user, "{user_id}")]
        assert len(access) == REQUESTS
        assert {line["user_id"] for line in access} == {user}
        assert len({line["pid"] for line in access}) == 2, "both workers served"
        assert all(line["status"] == 200 and line["request_id"] and line["duration_ms"] > 0 for line in access)
    finally:
        server.stop()


@pytest.mark.parametrize("frontend", [frontend.name for frontend in FRONTEND_TABLE.values()])
def test_metrics_can_be_turned_off(frontend, database_url, tmp_path):
    server = Server(frontend, tmp_path, {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET,
                                         "METRICS_ENABLED": "false", "ACCESS_LOG_ENABLED": "false", "LOG_FORMAT": "text"})
    try:
        assert call(server.port, "GET", "/metrics")[0] == 404
        assert call(server.port, "GET", "/health")[0] == 200
        assert not [line for line in server.lines if "todo_api.access" in line]
    finally:
        server.stop()


SERVERS = [(frontend.name, name) for frontend in FRONTEND_TABLE.values() for name in frontend.servers]


@pytest.mark.parametrize("frontend, server_name", SERVERS)
def test_serve_refuses_a_port_already_in_use_with_one_line(frontend, server_name, database_url, tmp_path):
    """Every offered server binds with SO_REUSEPORT or is handed its sockets: without the
    check, a second `serve` started beside the first and the kernel shared the
    connections between the two."""
    env = {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET}
    first = Server("flask", tmp_path, env, workers=2)
    try:
        second = subprocess.run(
            [TODO_API, "serve", "--frontend", frontend, "--server", server_name, "--port", str(first.port)],
            cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True, timeout=30)
        assert second.returncode == 2, second
        assert second.stderr.count("\n") == 1 and f"port {first.port} on 127.0.0.1 is already in use" in (
            second.stderr), second.stderr
        assert [call(first.port, "GET", "/health")[0] for _ in range(20)] == [200] * 20
    finally:
        assert first.stop() == 0


def test_a_uvicorn_worker_that_dies_is_started_again_on_its_socket(database_url, tmp_path):
    """todo_api.serve.uvicorn_bounded runs one uvicorn process per worker socket: a worker killed
    outright is replaced, and the port keeps answering throughout."""
    server = Server("quart", tmp_path, {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET},
                    workers=2, server="uvicorn")
    try:
        [launcher] = children_of(server.process.pid)  # the launcher, under serve
        workers = children_of(launcher)
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (len(children_of(launcher)) < 2 or workers[0] in children_of(launcher)):
            assert call(server.port, "GET", "/health")[0] == 200  # the other worker's socket, and the kernel's queue
            time.sleep(0.2)
        replaced = children_of(launcher)
        assert len(replaced) == 2 and workers[0] not in replaced and workers[1] in replaced
        assert wait_ready(server.port)
        assert any("exited (-9); starting it again" in line for line in server.lines), server.lines[-10:]
    finally:
        assert server.stop() == 0, "\n".join(server.lines)


def wait_ready(port: int, seconds: float = 30) -> bool:
    """Every answer 200 for a while: both workers' sockets answer (the kernel hashes each
    new connection to one of them)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(call(port, "GET", "/ready")[0] == 200 for _ in range(20)):
            return True
        time.sleep(0.5)
    return False
