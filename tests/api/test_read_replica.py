"""DATABASE_REPLICA_URL: reads from a real streaming replica, never older than the user's last
acknowledged write (read-your-writes), on all four clients.

The replica is made with `pg_basebackup -R` and applies WAL `recovery_min_apply_delay` (300 ms)
late, so that a read right after a write finds it behind. A property test interleaves random
writes and reads of several users and requires every read to reflect every write answered
before it. With the delay removed, at least 90% of list bodies come from the replica
(`todo_api_db_reads_total`). A replica that is gone costs no error.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.clients import ApiClient, request
from tests.api.conftest import User
from tests.api.test_metrics import change, scrape
from tests.helpers import new_user_id
from tests.local_postgres import LocalPostgres

DELAY = "300ms"
USERS = 3


@pytest.fixture(scope="module")
def replicated() -> Iterator[tuple[LocalPostgres, LocalPostgres]]:
    from storage.migrate import migrate

    directory = Path(tempfile.mkdtemp(prefix="todo-replica-"))
    directory.chmod(0o755)  # the servers run as another user
    primary = LocalPostgres(directory / "primary")
    migrate(primary.url())
    replica = LocalPostgres(directory / "replica", standby_of=primary)
    set_delay(replica, DELAY)  # not on its command line, which a reload could not change
    yield primary, replica
    replica.remove()
    primary.remove()
    shutil.rmtree(directory, ignore_errors=True)


def set_delay(replica: LocalPostgres, delay: str) -> None:
    with psycopg.connect(replica.url(), autocommit=True) as conn:
        conn.execute(f"ALTER SYSTEM SET recovery_min_apply_delay = '{delay}'")
        conn.execute("SELECT pg_reload_conf()")


def caught_up(primary: LocalPostgres, replica: LocalPostgres, timeout: float = 10) -> None:
    with psycopg.connect(primary.url(), autocommit=True) as conn:
        (target,) = conn.execute("SELECT pg_current_wal_lsn()").fetchone()  # type: ignore[misc]
    with psycopg.connect(replica.url(), autocommit=True) as conn:
        deadline = time.monotonic() + timeout
        while not conn.execute("SELECT pg_last_wal_replay_lsn() >= %s", (target,)).fetchone()[0]:  # type: ignore[index]
            assert time.monotonic() < deadline, "the replica never caught up"
            time.sleep(0.02)


class Model:
    """What the users' tasks are after every write answered so far: id -> completed."""

    def __init__(self, users: list[User]) -> None:
        self.users = users
        self.tasks: list[dict[str, bool]] = [{} for _ in users]

    def pick(self, number: int, which: int) -> str | None:
        ids = sorted(self.tasks[number])
        return ids[which % len(ids)] if ids else None


def apply(api: ApiClient, model: Model, step: tuple[Any, ...]) -> None:
    """One write (checked answered) or one read (checked against the model)."""
    kind, number, which = step
    user, tasks = model.users[number], model.tasks[number]
    task_id = model.pick(number, which)
    if kind == "create":
        answer = request(api, "POST", user.tasks, headers=user.headers,
                         json={"title": f"t{which}", "priority": "low", "category": "work"})
        assert answer.status == 201, answer.body
        tasks[answer.json()["id"]] = False
    elif kind == "toggle" and task_id:
        answer = request(api, "PATCH", user.task(task_id, "/complete"), headers=user.headers)
        assert answer.status == 200, answer.body
        tasks[task_id] = answer.json()["completed"]
    elif kind == "delete" and task_id:
        assert request(api, "DELETE", user.task(task_id), headers=user.headers).status == 204
        del tasks[task_id]
    elif kind == "list":
        answer = request(api, "GET", user.tasks, headers=user.headers)
        assert {task["id"]: task["completed"] for task in answer.json()} == tasks
    elif kind == "get" and task_id:
        answer = request(api, "GET", user.task(task_id), headers=user.headers)
        assert (answer.status, answer.json()["completed"]) == (200, tasks[task_id])
    elif kind == "stats":
        stats = request(api, "GET", user.stats, headers=user.headers).json()
        assert (stats["total"], stats["completed"]) == (len(tasks), sum(tasks.values()))
    elif kind == "changes":
        feed = request(api, "GET", f"/api/{user.id}/changes?since=0", headers=user.headers).json()
        assert {task["id"]: task["completed"] for task in feed["tasks"]} == tasks
    elif kind == "wait":
        time.sleep(0.35)  # the replica catches up: reads after this may come from it


STEPS = st.tuples(
    st.sampled_from(["create", "create", "toggle", "delete", "list", "list", "get", "stats", "changes", "wait"]),
    st.integers(0, USERS - 1), st.integers(0, 50))


def test_every_read_reflects_every_write_answered_before_it(frontend_factory, client, replicated):
    primary, replica = replicated
    api = frontend_factory(client.name, database_url=primary.url(), database_replica_url=replica.url())
    before = scrape(api)

    @settings(max_examples=8, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(script=st.lists(STEPS, min_size=10, max_size=30))
    def holds(script: list[tuple[Any, ...]]) -> None:
        model = Model([User(new_user_id()) for _ in range(USERS)])
        for step in script:
            apply(api, model, step)

    holds()
    after = scrape(api)
    assert change(before, after, "todo_api_db_reads_total", source="primary") > 0  # lag was met
    assert change(before, after, "todo_api_db_reads_total", source="replica") > 0  # and the replica read


def test_a_caught_up_replica_reads_most_list_bodies(frontend_factory, client, replicated):
    primary, replica = replicated
    set_delay(replica, "0")
    try:
        api = frontend_factory(client.name, database_url=primary.url(), database_replica_url=replica.url())
        model = Model([User(new_user_id()) for _ in range(8)])
        for number in range(8):
            apply(api, model, ("create", number, 0))
        caught_up(primary, replica)
        before = scrape(api)
        for sent in range(200):  # a write every tenth request, reads of every user between
            apply(api, model, ("toggle" if sent % 10 == 0 else "list", sent % 8, 0))
        after = scrape(api)
    finally:
        set_delay(replica, DELAY)
    from_replica = change(before, after, "todo_api_db_reads_total", source="replica")
    from_primary = change(before, after, "todo_api_db_reads_total", source="primary")
    assert from_replica + from_primary == 180
    assert from_replica / 180 >= 0.9, f"{from_replica:.0f} of 180 list bodies from the replica"


def test_a_replica_that_is_gone_costs_no_error(frontend_factory, client, user, database_url):
    from tests.api.test_database_down import closed_port

    api = frontend_factory(client.name, database_replica_url=f"postgresql://postgres@127.0.0.1:{closed_port()}/x")
    assert request(api, "POST", user.tasks, headers=user.headers,
                   json={"title": "t", "priority": "low", "category": "work"}).status == 201
    before = scrape(api)
    for _ in range(5):
        listed = request(api, "GET", user.tasks, headers=user.headers)
        assert (listed.status, len(listed.json())) == (200, 1)
        assert request(api, "GET", user.stats, headers=user.headers).status == 200
    after = scrape(api)
    assert change(before, after, "todo_api_db_reads_total", source="primary") == 10
    assert change(before, after, "todo_api_db_reads_total", source="replica") == 0
