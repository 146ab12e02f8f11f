"""With the database unreachable: liveness still 200, everything needing data 503 + Retry-After."""

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.api.clients import request


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens here once the probe closes


def test_unreachable_database_is_503_with_retry_after(frontend_factory, client, user):
    down = frontend_factory(
        client.name,
        database_url=f"postgresql://postgres@127.0.0.1:{closed_port()}/none?connect_timeout=1",
        db_pool_timeout_seconds=0.5,
    )
    assert request(down, "GET", "/health").status == 200
    ready = request(down, "GET", "/ready")
    assert ready.status == 503
    assert ready.header("retry-after") == "5"
    assert ready.json() == {"detail": "Database unavailable, try again shortly"}
    for method, path, body in [("GET", user.tasks, None), ("GET", user.stats, None),
                               ("POST", user.tasks, {"title": "t", "priority": "low", "category": "work"})]:
        result = request(down, method, path, headers=user.headers, json=body)
        assert result.status == 503, path
        assert result.header("retry-after") == "5"
    # answers that need no data do not wait for the database
    assert request(down, "GET", user.tasks).status == 401


def test_an_outage_is_answered_at_once_not_after_the_pool_timeout(frontend_factory, client, user):
    """Once a failed connection attempt has shown the database down, no request waits for the
    pool: 20 requests take far less than one pool timeout (30 s here), and /ready agrees."""
    down = frontend_factory(
        client.name,
        database_url=f"postgresql://postgres@127.0.0.1:{closed_port()}/none",
        db_pool_timeout_seconds=30,
    )
    began = time.monotonic()
    statuses = {request(down, "GET", user.tasks, headers=user.headers).status for _ in range(20)}
    statuses.add(request(down, "GET", "/ready").status)
    assert statuses == {503}
    assert time.monotonic() - began < 5, "a request waited for the pool"


@contextmanager
def silent_host() -> Iterator[int]:
    """A port whose kernel accepts the connection and then nothing ever answers: a host that went
    silent (not a refusal, which is noticed at once)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


def test_a_silent_host_costs_one_connect_timeout_then_the_next_host_serves(
        frontend_factory, client, user, database_url):
    real = conninfo_to_dict(database_url)
    with silent_host() as port:
        both = make_conninfo(database_url, host=f"127.0.0.1,{real.get('host', 'localhost')}",
                             port=f"{port},{real.get('port', 5432)}")
        began = time.monotonic()
        api = frontend_factory(client.name, database_url=both, db_connect_timeout_seconds=2,
                               db_pool_timeout_seconds=30)
        assert request(api, "GET", user.tasks, headers=user.headers).status == 200
        assert 2 <= time.monotonic() - began < 10  # DB_CONNECT_TIMEOUT_SECONDS, not the pool's 30 s


def test_a_silent_database_is_answered_503_within_its_connect_timeouts(frontend_factory, client, user):
    with silent_host() as port:
        began = time.monotonic()
        api = frontend_factory(client.name, database_url=f"postgresql://postgres@127.0.0.1:{port}/x",
                               db_connect_timeout_seconds=2, db_pool_timeout_seconds=30)
        assert request(api, "GET", user.tasks, headers=user.headers).status == 503
        assert time.monotonic() - began < 10  # the pool tries twice (2 s each), then the outage is known
        again = time.monotonic()
        assert {request(api, "GET", user.tasks, headers=user.headers).status for _ in range(5)} == {503}
        assert time.monotonic() - again < 1  # and answered at once
