"""The change feed's SQL under concurrent writers (migration 0007): a reader that follows
the feed while four connections write one user's tasks misses nothing, because the
user's revisions are given in commit order."""

from __future__ import annotations

import json
import random
import threading
from uuid import UUID

import psycopg

from core import queries
from core.tasks import validate_create, validate_update
from tests.helpers import new_user_id

KEPT = queries.DeletionsKept(seconds=3600, per_user=10_000)


def run(conn: psycopg.Connection, query: queries.Query) -> list[tuple]:
    return conn.execute(query.sql, query.params).fetchall()



def writer(url: str, user: str, seed: int, rounds: int, errors: list[BaseException]) -> None:
    try:
        write(url, user, seed, rounds)
    except BaseException as error:  # a deadlock, say: the test fails on it
        errors.append(error)


def write(url: str, user: str, seed: int, rounds: int) -> None:
    rng = random.Random(seed)
    with psycopg.connect(url, autocommit=True) as conn:
        mine: list[UUID] = []
        for n in range(rounds):
            action = rng.choice(["create", "create", "update", "delete"]) if mine else "create"
            if action == "create":
                values = validate_create(json.dumps({"title": f"w{seed}-{n}", "priority": "low",
                                                     "category": "work"}).encode())
                mine.append(UUID(run(conn, queries.create_task(user, values, 10_000))[0][0]))
            elif action == "update":
                values = validate_update(json.dumps({"title": f"w{seed}-{n}-edited"}).encode())
                run(conn, queries.update_task(user, rng.choice(mine), values))
            else:
                run(conn, queries.delete_task(user, mine.pop(rng.randrange(len(mine)))))
                run(conn, queries.prune_deletions(user, KEPT))


def follow(conn: psycopg.Connection, user: str, replica: dict[str, str], since: int) -> int:
    """Apply one feed page to the replica; the revision it brings it to."""
    rows = run(conn, queries.changes(user, since, 50))
    for _, _, _, deleted, body in rows[:50]:
        if deleted is None:
            continue
        if deleted:
            replica.pop(body, None)
        else:
            replica[json.loads(body)["id"]] = body
    return rows[49][2] if len(rows) > 50 else rows[0][0]


def test_a_reader_following_concurrent_writers_ends_with_the_table(database_url):
    user = new_user_id()
    errors: list[BaseException] = []
    threads = [threading.Thread(target=writer, args=(database_url, user, seed, 60, errors)) for seed in range(4)]
    replica: dict[str, str] = {}
    since = 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            since = follow(conn, user, replica, since)
        for thread in threads:
            thread.join()
        while (moved := follow(conn, user, replica, since)) != since:
            since = moved
        table = {str(row[0]): row[1] for row in conn.execute(
            f'SELECT id, {queries.TASK_JSON} FROM tasks WHERE "userId" = %s', (user,))}
    assert errors == []
    assert replica == table and table


def test_pruned_deletions_raise_where_the_feed_is_complete(database_url):
    user = new_user_id()
    kept_two = queries.DeletionsKept(seconds=3600, per_user=2)
    with psycopg.connect(database_url, autocommit=True) as conn:
        values = validate_create(b'{"title": "t", "priority": "low", "category": "work"}')
        ids = [UUID(run(conn, queries.create_task(user, values, 10_000))[0][0]) for _ in range(5)]
        for task_id in ids:
            run(conn, queries.delete_task(user, task_id))
            run(conn, queries.prune_deletions(user, kept_two))
        tombstones = conn.execute('SELECT revision FROM task_tombstones WHERE "userId" = %s ORDER BY 1',
                                  (user,)).fetchall()
        (kept_since,) = conn.execute('SELECT kept_since FROM task_revisions WHERE "userId" = %s',
                                     (user,)).fetchone()
    assert len(tombstones) == 2
    assert 0 < kept_since < tombstones[0][0]
