"""Event streams through `todo-api serve` on real sockets: a change reaches the streams of
every worker, whichever worker wrote it, and a stop ends open streams at once instead of
waiting on them for the whole grace."""

from __future__ import annotations

import http.client
import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks.load.servers import STUCK_STOP_SIGNS
from tests.api.streams import Event, parse_events
from tests.helpers import SECRET, make_token, new_user_id
from tests.served import Server, call, streams_open
from todo_api.serve.frontends import FRONTENDS

SERVERS = [(frontend.name, name) for frontend in FRONTENDS.values() for name in frontend.servers]
GRACE_SECONDS = 10
TASK = json.dumps({"title": "A task", "priority": "low", "category": "work"}).encode()


class Subscriber:
    """One event stream on a connection of its own, read as it comes."""

    def __init__(self, port: int, user: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        self.connection.request("GET", f"/api/{user}/events", headers=auth(user))
        self.response = self.connection.getresponse()
        self.text = ""
        self.events: list[Event] = []

    def revisions_until(self, wanted: int, timeout: float = 10) -> list[int]:
        """The revisions received until one reaches `wanted` (or the time runs out)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(revision >= wanted for revision in self.revisions()):
            self.connection.sock.settimeout(max(0.1, deadline - time.monotonic()))  # type: ignore[union-attr]
            try:
                chunk = self.response.read1(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            events, self.text = parse_events(self.text + chunk.decode())
            self.events += events
        return self.revisions()

    def revisions(self) -> list[int]:
        return [json.loads(event.data)["revision"] for event in self.events if event.event == "revision"]

    def read_to_end(self) -> bytes:
        return self.response.read()

    def close(self) -> None:
        self.connection.close()


def auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user)}"}


def created_revision(port: int, user: str) -> int:
    status, _, _ = call(port, "POST", f"/api/{user}/tasks", {**auth(user), "Content-Type": "application/json"},
                        TASK)
    assert status == 201
    return json.loads(call(port, "GET", f"/api/{user}/changes", auth(user))[2])["revision"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("frontend", list(FRONTENDS))
def test_a_change_reaches_the_streams_of_every_worker(frontend, database_url, tmp_path):
    """Twelve streams over two workers (the kernel spreads connections: all twelve on one
    worker is a 1-in-2,000 chance) and writes on fresh connections (either worker)."""
    server = Server(frontend, tmp_path, {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET}, workers=2)
    user, bystander = new_user_id(), new_user_id()
    try:
        with ThreadPoolExecutor(14) as pool:
            streams = list(pool.map(lambda n: Subscriber(server.port, user if n < 12 else bystander), range(14)))
        assert all(stream.revisions_until(0) == [0] for stream in streams)
        for _ in range(4):
            revision = created_revision(server.port, user)
            with ThreadPoolExecutor(12) as pool:
                heard = list(pool.map(Subscriber.revisions_until, streams[:12], [revision] * 12))
            assert [revisions[-1] for revisions in heard] == [revision] * 12
        assert [stream.revisions_until(1, timeout=1) for stream in streams[12:]] == [[0], [0]]
        for stream in streams:
            stream.close()
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("frontend, server_name", SERVERS)
def test_a_stop_ends_open_streams_at_once(frontend, server_name, database_url, tmp_path):
    server = Server(frontend, tmp_path, {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET,
                                         "SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS)},
                    workers=2, server=server_name)
    user = new_user_id()
    streams = [Subscriber(server.port, user) for _ in range(6)]
    assert all(stream.revisions_until(0) == [0] for stream in streams)
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    with ThreadPoolExecutor(6) as pool:
        ends = list(pool.map(lambda stream: stream.read_to_end(), streams))  # each answer ends, cleanly
    status = server.process.wait(timeout=GRACE_SECONDS + 10)
    took = time.monotonic() - started
    stuck = [line for line in server.all_lines() if any(sign in line for sign in STUCK_STOP_SIGNS)]
    assert ends == [b""] * 6  # no event after the stop began: the stream just ends
    assert (status, stuck) == (0, []), server.lines[-20:]
    assert took < GRACE_SECONDS / 2, f"the stop took {took:.1f} s: it waited on the streams"


@pytest.mark.parametrize("frontend, server_name", SERVERS)
def test_a_client_that_goes_frees_its_stream(frontend, server_name, database_url, tmp_path):
    """An ASGI server tells the app at once (`http.disconnect`); a WSGI one only when the
    next write fails, so a Flask stream keeps its thread until its next heartbeat."""
    heartbeat = 1.0
    server = Server(frontend, tmp_path, {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET,
                                         "EVENTS_HEARTBEAT_SECONDS": str(heartbeat)}, server=server_name)
    try:
        user = new_user_id()
        streams = [Subscriber(server.port, user) for _ in range(3)]
        assert all(stream.revisions_until(0) == [0] for stream in streams)
        assert streams_open(server.port) == 3
        for stream in streams:
            stream.close()
        deadline = time.monotonic() + heartbeat + 5
        while streams_open(server.port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert streams_open(server.port) == 0
    finally:
        assert server.stop() == 0
