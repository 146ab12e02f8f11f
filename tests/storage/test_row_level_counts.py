"""The Citus recipe's row-level count triggers (docs/recipes/row_level_counts.sql) keep the same
numbers as migration 0002's statement-level ones: the same random writes, through the API's
own statements, leave task_counts equal to a count of the tasks, on both kinds."""

from __future__ import annotations

import random
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from core import queries
from core.tasks import validate_create, validate_update
from tests.helpers import new_user_id

RECIPE = Path(__file__).parents[2] / "docs" / "recipes" / "row_level_counts.sql"
COUNTED = ('SELECT "userId", status, priority, category, n FROM task_counts WHERE n <> 0 '
           "ORDER BY 1, 2, 3, 4")
RECOUNTED = ('SELECT "userId", status, priority, category, count(*) FROM tasks '
             "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4")


def run(conn: psycopg.Connection, query: queries.Query) -> list[tuple]:
    return conn.execute(query.sql, query.params).fetchall()


def random_writes(conn: psycopg.Connection, seed: int) -> None:
    rng = random.Random(seed)
    users = [new_user_id() for _ in range(3)]
    owned: dict[str, list[UUID]] = {user: [] for user in users}
    for _ in range(300):
        user = rng.choice(users)
        kind = rng.choice(["create", "create", "toggle", "update", "delete"]) if owned[user] else "create"
        if kind == "create":
            body = (f'{{"title": "t", "priority": "{rng.choice(["low", "medium", "high"])}", '
                    f'"category": "{rng.choice(["work", "personal"])}"}}').encode()
            owned[user].append(UUID(run(conn, queries.create_task(user, validate_create(body), 1000))[0][0]))
        elif kind == "toggle":
            run(conn, queries.toggle_task(user, rng.choice(owned[user])))
        elif kind == "update":
            body = f'{{"priority": "{rng.choice(["low", "high"])}", "title": "u"}}'.encode()
            run(conn, queries.update_task(user, rng.choice(owned[user]), validate_update(body)))
        else:
            task = owned[user].pop(rng.randrange(len(owned[user])))
            run(conn, queries.delete_task(user, task))


@pytest.mark.parametrize("triggers", ["statement-level (0002)", "row-level (the Citus recipe)"])
def test_the_counters_match_a_recount(create_database, triggers):
    url = create_database()
    with psycopg.connect(url, autocommit=True) as conn:
        if triggers.startswith("row"):
            conn.execute(RECIPE.read_text())
        random_writes(conn, seed=7)
        assert conn.execute(COUNTED).fetchall() == conn.execute(RECOUNTED).fetchall()
