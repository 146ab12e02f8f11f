"""Two instances of each frontend behind a real HAProxy, restarted one at a time under load.

Each instance is `todo-api serve --workers 2` with the recipe's SHUTDOWN_DRAIN_SECONDS=2,
behind docs/recipes/haproxy.cfg itself. 16 clients create and list tasks through HAProxy
while each instance in turn gets SIGTERM, exits, and is started again on its port. Every
request must be answered 2xx: no 5xx, no reset, no refused connection; each instance
exits 0, and every create answered 201 is stored.
"""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.haproxy import HAProxy
from tests.helpers import SECRET
from tests.served import FRONTENDS, Server, call, free_port
from tests.steady_load import Load

DRAIN = "2"  # the recipe's: longer than HAProxy's 2 failed checks 250 ms apart


def back_in_rotation(proxy: HAProxy, seconds: float = 1.5) -> None:
    """HAProxy takes an instance back after 2 good checks, 250 ms apart."""
    time.sleep(seconds)
    assert call(proxy.port, "GET", "/ready")[0] == 200


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_rolling_restarts_behind_haproxy_fail_no_request(frontend, database_url, tmp_path):
    env = {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET, "SHUTDOWN_DRAIN_SECONDS": DRAIN}
    ports = [free_port(), free_port()]
    instances = [Server(frontend, tmp_path, env, workers=2, port=port) for port in ports]
    proxy = HAProxy(*ports)
    exits: list[int] = []
    try:
        back_in_rotation(proxy)
        load = Load(proxy.port, threads=16)
        time.sleep(1)
        for number, port in enumerate(ports):
            exits.append(instances[number].stop())
            instances[number] = Server(frontend, tmp_path, env, workers=2, port=port)
            back_in_rotation(proxy)
        load.stop()
    finally:
        for instance in instances:
            instance.stop()
        log = proxy.stop()

    failed = [(status, method) for _, _, status, method in load.answers if status not in (200, 201)]
    assert not failed, f"{len(failed)} of {len(load.answers)} failed: {failed[:10]}\n{log}"
    assert len(load.answers) > 500, len(load.answers)
    assert exits == [0, 0]
    with psycopg.connect(database_url) as conn:
        stored = {row[0] for row in conn.execute('SELECT id::text FROM tasks WHERE "userId" = %s', (load.user,))}
    assert set(load.created) <= stored
