"""Stopping `todo-api serve` on every server: requests in flight are answered, no new one
is, the stop ends within SHUTDOWN_GRACE_SECONDS with exit status 0, and a `serve` killed
outright leaves nothing that keeps the next one from starting.

The slow requests are slow because the database is: it sits behind the benchmark's
latency proxy (no hook in the API makes a request slow)."""

from __future__ import annotations

import http.client
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from psycopg.conninfo import make_conninfo

from benchmarks.load.latency import upstream_of
from benchmarks.load.latency_proxy import LatencyProxy
from benchmarks.load.servers import STUCK_STOP_SIGNS
from tests.helpers import SECRET, make_token, new_user_id
from tests.served import Server, call
from todo_api.serve.frontends import FRONTENDS as FRONTEND_TABLE

SERVERS = [(frontend.name, name) for frontend in FRONTEND_TABLE.values() for name in frontend.servers]
IN_FLIGHT = 32
RTT_MS = 500
GRACE_SECONDS = 10
STOP_ROUNDS = int(os.environ.get("TODO_API_STOP_ROUNDS", "3"))
"""Stops after load per server; the documented count comes from TODO_API_STOP_ROUNDS=20."""


def outcome(port: int, path: str, headers: dict[str, str]) -> int | str:
    """The status, or the name of what happened instead of an answer."""
    try:
        return call(port, "GET", path, headers)[0]
    except OSError as error:  # refused, reset, closed without an answer
        return type(error).__name__


def stop(server: Server) -> tuple[int, float]:
    """SIGTERM to `serve`, as a container runtime sends; its exit status and how long it took."""
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    status = server.process.wait(timeout=GRACE_SECONDS + 10)
    return status, time.monotonic() - started


@pytest.mark.parametrize("frontend, server_name", SERVERS)
def test_a_stop_answers_the_requests_in_flight_and_no_new_one(frontend, server_name, database_url, tmp_path):
    with LatencyProxy(upstream_of(database_url), RTT_MS) as proxy:
        slow_database = make_conninfo(database_url, host="127.0.0.1", port=proxy.port)
        server = Server(frontend, tmp_path, {
            "DATABASE_URL": slow_database, "BETTER_AUTH_SECRET": SECRET, "DB_POOL_TIMEOUT_SECONDS": "30",
            "SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS)}, workers=2, server=server_name)
        try:
            user = new_user_id()
            auth = {"Authorization": f"Bearer {make_token(user)}"}
            stats = f"/api/{user}/stats"
            with ThreadPoolExecutor(IN_FLIGHT) as pool:  # the pools open their connections first
                assert set(pool.map(lambda n: outcome(server.port, stats, auth), range(IN_FLIGHT))) == {200}
                in_flight = [pool.submit(outcome, server.port, stats, auth) for _ in range(IN_FLIGHT)]
                time.sleep(0.3)  # sent; each waits at least a round trip to the database
                assert not any(each.done() for each in in_flight)
                started = time.monotonic()
                server.process.send_signal(signal.SIGTERM)
                time.sleep(0.2)
                late = outcome(server.port, "/health", {})
                answers = [each.result() for each in in_flight]
            status = server.process.wait(timeout=GRACE_SECONDS + 10)
            took = time.monotonic() - started
        finally:
            if server.process.poll() is None:
                server.stop()
    assert answers == [200] * IN_FLIGHT, server.lines[-20:]
    assert late in {"ConnectionRefusedError", "ConnectionResetError", "RemoteDisconnected"}, late
    assert (status, took < GRACE_SECONDS) == (0, True), (status, took, server.lines[-20:])


LOAD_CLIENTS = 32
LOAD_SECONDS = 2.0


def load(port: int, user: str, auth: dict[str, str]) -> int:
    """LOAD_CLIENTS keep-alive clients on the list and the stats for LOAD_SECONDS, as a
    load generator sends them; how many requests were answered 200."""
    ends = time.monotonic() + LOAD_SECONDS

    def client(number: int) -> int:
        path = f"/api/{user}/tasks" if number % 2 else f"/api/{user}/stats"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        answered = 0
        try:
            while time.monotonic() < ends:
                connection.request("GET", path, headers=auth)
                response = connection.getresponse()
                response.read()
                assert response.status == 200, response.status
                answered += 1
        finally:
            connection.close()
        return answered

    with ThreadPoolExecutor(LOAD_CLIENTS) as pool:
        return sum(pool.map(client, range(LOAD_CLIENTS)))


def signal_stop(server: Server, to: str) -> None:
    """SIGTERM to `serve` alone (a container runtime, Kubernetes), or to its process group
    as `uv run todo-api serve` gets it from a terminal or `kill -- -PGID`: the group's
    signal, and uv's forwarding of it, reach `serve` twice."""
    if to == "group":
        os.killpg(server.process.pid, signal.SIGTERM)  # serve leads its group, as a shell's job
    server.process.send_signal(signal.SIGTERM)


def access_lines_of(server: Server, user: str) -> int:
    marker = f'"user_id":"{user}"'
    return sum(1 for line in server.lines if '"logger":"todo_api.access"' in line and marker in line)


@pytest.mark.parametrize("frontend, server_name", SERVERS)
def test_stops_after_load_end_within_the_grace_period(frontend, server_name, database_url, tmp_path):
    """Counted over rounds, half of them signalling serve alone, half its group: a granian
    WSGI worker that got a second SIGTERM while it handled the first deadlocked (its
    handler re-entered granian's WorkerSignal) until killed at the grace's end, and a
    worker's last access lines were lost when it exited."""
    results = []
    for number in range(STOP_ROUNDS):
        to = ("serve", "group")[number % 2]
        server = Server(frontend, tmp_path, {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET,
                                             "SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS)},
                        workers=2, server=server_name)
        user = new_user_id()
        answered = load(server.port, user, {"Authorization": f"Bearer {make_token(user)}"})
        started = time.monotonic()
        signal_stop(server, to)
        status = server.process.wait(timeout=GRACE_SECONDS + 10)
        took = time.monotonic() - started
        stuck = [line for line in server.all_lines() if any(sign in line for sign in STUCK_STOP_SIGNS)]
        logged = access_lines_of(server, user)
        results.append((to, status, round(took, 1), stuck[:1], answered - logged))
    print(f"{frontend}-{server_name} stops (to, status, seconds, stuck, access lines lost): {results}")
    assert all(status == 0 and took < GRACE_SECONDS and not stuck and not lost
               for _, status, took, stuck, lost in results), results


def port_free(port: int) -> bool:
    return outcome(port, "/health", {}) == "ConnectionRefusedError"


def embedded_postgres_pid(data_dir: Path) -> int | None:
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    if not pid_file.is_file():
        return None
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def wait_until(condition, timeout: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def kill_serve(server: Server) -> None:
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)
    assert wait_until(lambda: port_free(server.port)), "the server outlived serve"


def test_a_killed_serve_leaves_nothing_that_stops_the_next_one(tmp_path):
    """SIGKILL to `serve` (a runtime's stop timeout ran out): its server follows it; the
    embedded PostgreSQL it started is left running, and the next `serve` reuses it, then
    stops it at exit as if it had started it. A PostgreSQL killed too leaves a stale
    postmaster.pid, which is no obstacle either."""
    data_dir = tmp_path / "data"
    env = {"TODO_API_DATA_DIR": str(data_dir)}
    first = Server("flask", tmp_path, env)
    postgres = embedded_postgres_pid(data_dir)
    assert postgres is not None
    kill_serve(first)
    assert embedded_postgres_pid(data_dir) == postgres  # left behind: nothing runs in a killed process

    second = Server("quart", tmp_path, env)
    assert embedded_postgres_pid(data_dir) == postgres
    assert stop(second)[0] == 0
    assert wait_until(lambda: embedded_postgres_pid(data_dir) is None), "the reused database was not stopped"

    third = Server("flask", tmp_path, env)
    postgres = embedded_postgres_pid(data_dir)
    kill_serve(third)
    os.kill(postgres, signal.SIGKILL)  # postmaster.pid stays behind
    assert wait_until(lambda: embedded_postgres_pid(data_dir) is None)
    assert (data_dir / "pgdata" / "postmaster.pid").is_file()
    fourth = Server("quart", tmp_path, env)
    assert call(fourth.port, "GET", "/ready")[0] == 200
    assert stop(fourth)[0] == 0


@pytest.mark.parametrize("frontend, server_name", SERVERS)
def test_a_drain_answers_on_with_ready_503_and_connections_closing(frontend, server_name, database_url,
                                                                    tmp_path):
    """With SHUTDOWN_DRAIN_SECONDS, SIGTERM turns /ready to 503 at once while requests are still
    answered, each with `Connection: close` (a load balancer keeps no idle connection to an
    instance about to close its port); the port closes once the drain is over."""
    env = {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET, "SHUTDOWN_DRAIN_SECONDS": "2"}
    server = Server(frontend, tmp_path, env, workers=2, server=server_name)
    user = new_user_id()
    auth = {"Authorization": f"Bearer {make_token(user)}"}
    status, headers, _ = call(server.port, "GET", f"/api/{user}/tasks", auth)
    assert (status, headers.get("connection", "keep-alive").lower()) == (200, "keep-alive")
    began = time.monotonic()
    os.killpg(server.process.pid, signal.SIGTERM)
    time.sleep(0.3)
    ready = [call(server.port, "GET", "/ready")[0] for _ in range(4)]  # either worker
    answers = [call(server.port, "GET", f"/api/{user}/tasks", auth)[:2] for _ in range(4)]
    assert ready == [503] * 4
    assert [(status, headers.get("connection")) for status, headers in answers] == [(200, "close")] * 4
    assert server.process.wait(timeout=GRACE_SECONDS + 5) == 0
    assert time.monotonic() - began >= 2
