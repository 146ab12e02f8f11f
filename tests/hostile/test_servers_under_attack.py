"""Every server `todo-api serve` offers, attacked on loopback while ordinary requests are timed.

Each attack is bounded in connections and seconds. What is asserted is what a client of
the service would notice: other users' requests keep their latency, the attacker gets a
clear refusal, and the server is fine afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from benchmarks.load.servers import tree_rss_kib
from tests.helpers import SECRET, make_token
from tests.hostile import attacks
from tests.served import Server, call, streams_open
from todo_api.serve.frontends import FRONTENDS
from todo_api.serve.servers import ENFORCES_WRITE_TIMEOUT, HEADER_READ_TIMEOUT_SECONDS

OFFERED = [(frontend.name, server) for frontend in FRONTENDS.values() for server in frontend.servers]
PROBER = "hostile-prober"
PROBER_HEADERS = {"Authorization": f"Bearer {make_token(PROBER)}"}
STATS = f"/api/{PROBER}/stats"
ATTACKER = "hostile-attacker"  # signed in: the attacks that need a valid token have one
WORKERS = 2
WRITE_TIMEOUT_SECONDS = 2
BIG_LISTER = "hostile-big-lister"


NEEDED_FILE_DESCRIPTORS = 8192


def raise_file_limit() -> None:
    """The attacks hold ~6,000 connections; the servers inherit this process's limit
    (root may raise the hard limit too)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < NEEDED_FILE_DESCRIPTORS:
        new_hard = hard
        if hard != resource.RLIM_INFINITY and hard < NEEDED_FILE_DESCRIPTORS and os.geteuid() == 0:
            new_hard = NEEDED_FILE_DESCRIPTORS
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(NEEDED_FILE_DESCRIPTORS, new_hard), new_hard))
        except (ValueError, OSError):
            pass
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < NEEDED_FILE_DESCRIPTORS:
        pytest.skip(f"needs {NEEDED_FILE_DESCRIPTORS} open files and the hard limit is {hard}: "
                    f"raise it (ulimit -Hn {NEEDED_FILE_DESCRIPTORS}, as root)")


@pytest.fixture(scope="module", params=OFFERED, ids=[f"{f}-{s}" for f, s in OFFERED])
def served(request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory,
           ) -> Iterator[tuple[str, str, Server]]:
    raise_file_limit()
    frontend, server = request.param
    env = {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET, "BODY_READ_TIMEOUT_SECONDS": "2",
           "WRITE_TIMEOUT_SECONDS": str(WRITE_TIMEOUT_SECONDS)}
    running = Server(frontend, tmp_path_factory.mktemp("hostile"), env, workers=WORKERS, server=server)
    yield frontend, server, running
    assert running.stop() == 0, "\n".join(running.lines)


def still_serves(server: Server) -> None:
    status, _, body = call(server.port, "GET", STATS, PROBER_HEADERS)
    assert status == 200, body
    assert "total" in json.loads(body)


def test_an_endless_header_stream_gets_431_and_a_bounded_amount_of_memory(served):
    _, _, server = served
    before = tree_rss_kib(server.process.pid)
    flood = attacks.header_flood(server.port, limit_bytes=8 * 1024 * 1024)
    grown_mib = (tree_rss_kib(server.process.pid) - before) / 1024
    assert attacks.statuses(flood.answer) == [431], flood.answer[:200]
    assert grown_mib < 16, f"the workers grew by {grown_mib:.0f} MiB"
    still_serves(server)


AMBIGUOUS = {
    "Content-Length and Transfer-Encoding": (
        "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    "Transfer-Encoding and Content-Length": (
        "Transfer-Encoding: chunked\r\nContent-Length: 60\r\n\r\n0\r\n\r\n"),
    "two Content-Lengths": "Content-Length: 2\r\nContent-Length: 60\r\n\r\n{}",
    "a Content-Length list": "Content-Length: 2, 60\r\n\r\n{}",
    "obsolete line folding": "Content-Length: 2\r\nX-Folded: a\r\n Transfer-Encoding: chunked\r\n\r\n{}",
    "chunked, then identity": "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("name", list(AMBIGUOUS))
def test_a_request_of_ambiguous_length_never_smuggles_a_second_one(served, name):
    _, _, server = served
    head = (f"POST /api/{PROBER}/tasks HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: {PROBER_HEADERS['Authorization']}\r\nContent-Type: application/json\r\n")
    smuggled = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    answer = attacks.raw_exchange(server.port, (head + AMBIGUOUS[name] + smuggled).encode(), timeout=5)
    seen = attacks.statuses(answer)
    assert len(seen) == 1 and (400 <= seen[0] < 500 or seen[0] == 501), answer[:300]
    still_serves(server)


def attack_mix() -> list[tuple[attacks.Attack, int]]:
    """50 slow bodies from a signed-in client, 3,000 slowloris and 3,000 silent
    connections at once. A WSGI worker reads a body in one of its threads: Flask holds
    because its workers have WSGI_THREADS (4 per pooled connection), so slow bodies wait
    in spare threads, not for connections (docs/security.md)."""
    slow_body = attacks.slow_body_of(ATTACKER, make_token(ATTACKER))
    return [(slow_body, 50), (attacks.slowloris, 3000), (attacks.silent, 3000)]


def test_ordinary_requests_keep_their_latency_under_slow_and_idle_connections(served):
    _, _, server = served
    probe = asyncio.run(attacks.under_attack(server.port, attack_mix(), STATS, PROBER_HEADERS, seconds=6))
    if probe.p99() >= 0.100:  # once more: the prober shares 2 cores with 6,000 attackers and the servers
        probe = asyncio.run(attacks.under_attack(server.port, attack_mix(), STATS, PROBER_HEADERS, seconds=6))
    assert probe.failures == 0 and len(probe.latencies) > 20
    assert probe.p99() < 0.100, f"p99 {probe.p99() * 1000:.0f} ms"
    still_serves(server)


STREAMERS = 400


def test_ordinary_requests_keep_their_latency_under_a_flood_of_event_streams(served):
    """400 signed-in users each hold a stream. Flask's workers take streams only on the
    threads beyond DB_POOL_MAX_SIZE (72 of 96 each, by default) and refuse the rest with
    503, so requests keep a thread each; Quart's take them all."""
    _, _, server = served
    heads = [f"GET /api/streamer-{n}/events HTTP/1.1\r\nHost: x\r\n"
             f"Authorization: Bearer {make_token(f'streamer-{n}')}\r\n\r\n".encode() for n in range(STREAMERS)]

    def flood() -> attacks.Probe:
        streams = attacks.event_streams_of(heads)
        return asyncio.run(attacks.under_attack(server.port, [(streams, STREAMERS)], STATS, PROBER_HEADERS,
                                                seconds=6))

    probe = flood()
    if probe.p99() >= 0.100:  # once more, as above
        probe = flood()
    assert probe.failures == 0 and len(probe.latencies) > 20
    assert probe.p99() < 0.100, f"p99 {probe.p99() * 1000:.0f} ms"
    still_serves(server)


def test_a_slow_body_gets_408_in_body_read_timeout(served):
    frontend, _, server = served
    if FRONTENDS[frontend].interface == "wsgi":
        pytest.skip("a WSGI server hands the body to a worker thread as it arrives: docs/security.md")
    answer = attacks.raw_exchange_slowly(server.port, PROBER, PROBER_HEADERS["Authorization"], seconds=8)
    assert attacks.statuses(answer) == [408], answer[:300]


def seconds_until_closed(port: int, opening: bytes, limit: float = 15.0) -> float:
    """How long the server keeps a connection that sent `opening` and then a header
    line every second, never finishing its head (`opening` empty: it sends nothing)."""
    with socket.create_connection((attacks.HOST, port), timeout=1.0) as conn:
        started = time.monotonic()
        conn.sendall(opening)
        while time.monotonic() - started < limit:
            try:
                if not conn.recv(1024):
                    return time.monotonic() - started
            except TimeoutError:
                if opening:
                    conn.sendall(b"X-Drip: 1\r\n")
            except OSError:
                return time.monotonic() - started
    return float("inf")


@pytest.mark.parametrize("opening", [b"", b"GET /health HTTP/1.1\r\nHost: x\r\n"], ids=["silent", "partial head"])
def test_a_connection_without_a_complete_head_is_closed_within_seconds(served, opening):
    _, server_name, server = served
    if server_name == "granian" and not opening:
        pytest.skip("granian's header timeout starts at the first byte: docs/security.md")
    assert seconds_until_closed(server.port, opening) < HEADER_READ_TIMEOUT_SECONDS + 2


@pytest.mark.parametrize("authorization", ["", "Authorization: Bearer forged.token.here\r\n"],
                         ids=["no token", "forged token"])
def test_a_request_refused_from_its_head_never_waits_for_its_body(served, authorization):
    _, _, server = served
    head = (f"POST /api/{PROBER}/tasks HTTP/1.1\r\nHost: x\r\n{authorization}"
            "Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n").encode()
    with socket.create_connection((attacks.HOST, server.port), timeout=3.0) as conn:
        conn.sendall(head)  # and not one byte of the body
        answer = conn.recv(4096)
    assert attacks.statuses(answer) == [401], answer[:300]


FORGED = "1999-01-01 00:00:00,000 ERROR todo_api: FORGED"


def test_nothing_a_client_sends_starts_a_line_in_the_log(served):
    _, _, server = served
    encoded = FORGED.replace(" ", "%20")
    for target in [f"/api/{PROBER}/tasks%0A{encoded}", f"/api/{PROBER}/tasks/x%0D%0A{encoded}",
                   f"/health?q=%0A{encoded}", f"/%E2%80%A8{encoded}"]:
        call(server.port, "GET", target, PROBER_HEADERS)
    call(server.port, "GET", STATS, {"Authorization": f"Bearer {FORGED}", "X-Note": FORGED})
    attacks.raw_exchange(server.port, f"GET /x\n{FORGED}\r\nHost: x\r\n\r\n".encode(), timeout=3)
    still_serves(server)
    assert not [line for line in server.lines if line.lstrip().startswith(FORGED[:10])], server.lines[-20:]


@pytest.fixture(scope="module")
def big_list_owner(database_url: str) -> str:
    """A user whose list is as large as an answer gets: LIST_MAX_ITEMS (1,000) tasks of the
    longest text, each character escaped to six bytes in JSON (~7.8 MB)."""
    task = (BIG_LISTER, "\x01" * 255, "\x02" * 1000, "low", "work")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute('DELETE FROM tasks WHERE "userId" = %s', (BIG_LISTER,))
        with conn.cursor() as cursor:
            cursor.executemany('INSERT INTO tasks ("userId", title, description, priority, category) '
                               "VALUES (%s, %s, %s, %s, %s)", [task] * 1000)
    return BIG_LISTER


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def all_dropped(port: int, clients: list[socket.socket]) -> Callable[[], bool]:
    ports = {client.getsockname()[1] for client in clients}
    return lambda: attacks.open_server_sides(port, ports) == 0


def peak_growth(kib, before, seconds):
    """The most memory the workers grew by while sampled for `seconds` (answers fill up
    over a moment: a sample taken as the first ones arrive undercounts a round)."""
    peak, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        peak = max(peak, kib() - before)
        time.sleep(0.1)
    return peak


def test_a_client_that_stops_reading_loses_its_answer_after_write_timeout(served, big_list_owner):
    _, server_name, server = served
    if not ENFORCES_WRITE_TIMEOUT[server_name]:
        pytest.skip(f"{server_name} enforces no WRITE_TIMEOUT_SECONDS: a proxy in front must (docs/operating.md)")
    workers_kib = lambda: tree_rss_kib(server.process.pid)  # noqa: E731
    request = (f"GET /api/{big_list_owner}/tasks HTTP/1.1\r\nHost: x\r\n"
               f"Authorization: Bearer {make_token(big_list_owner)}\r\n\r\n").encode()
    before = workers_kib()
    one_round_kib = 0
    for attack_round in range(2):
        readers = attacks.unread_answers(server.port, request, count=8)
        try:
            if attack_round == 0:  # the attack is real: eight answers wait in the workers' memory
                assert wait_for(lambda: workers_kib() - before > 32 * 1024, seconds=10), (before, workers_kib())
                one_round_kib = peak_growth(workers_kib, before, seconds=3)  # all eight, not the first few
            still_serves(server)
            assert wait_for(all_dropped(server.port, readers), seconds=WRITE_TIMEOUT_SECONDS + 10)
        finally:
            for reader in readers:
                reader.close()
    # Dropped after WRITE_TIMEOUT_SECONDS without progress, and freed: two rounds of unread answers
    # leave the workers holding less than one and a half rounds' worth (the allocator
    # keeps some for reuse, so "back to where it was" would be too strict).
    assert wait_for(lambda: workers_kib() - before < 1.5 * one_round_kib, seconds=5), (
        before, one_round_kib, workers_kib())
    still_serves(server)


def test_an_event_stream_that_stops_reading_is_dropped_after_write_timeout(served):
    """A stream whose client reads nothing while its user's changes pile up: once the
    client's window has stayed shut for WRITE_TIMEOUT_SECONDS the connection is reset and
    the stream, with its place under EVENTS_PER_USER_MAX, is gone."""
    _, server_name, server = served
    if not ENFORCES_WRITE_TIMEOUT[server_name]:
        pytest.skip(f"{server_name} enforces no WRITE_TIMEOUT_SECONDS: such a stream lasts until its "
                    "token expires (docs/security.md)")
    writer = "hostile-unread-stream"
    token = make_token(writer)
    request = (f"GET /api/{writer}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
    readers = attacks.unread_answers(server.port, request, count=2)
    try:
        create = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = json.dumps({"title": "x" * 200, "priority": "low", "category": "work"}).encode()
        for _ in range(300):  # ~20 KB of events: more than the readers' windows take
            assert call(server.port, "POST", f"/api/{writer}/tasks", create, body)[0] == 201
        assert wait_for(all_dropped(server.port, readers), seconds=WRITE_TIMEOUT_SECONDS + 10)
        assert wait_for(lambda: streams_open(server.port) == 0, seconds=5)
    finally:
        for reader in readers:
            reader.close()
    still_serves(server)
