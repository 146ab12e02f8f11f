"""The benchmark's data: many ordinary users, one heavy user, and a valid token for each."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import psycopg

from core.tasks import CATEGORIES, PRIORITIES
from storage.migrate import migrate

BIG_USER = "bench-big-user"
COPY_SQL = 'COPY tasks ("userId", title, description, priority, category, status, "dueDate") FROM STDIN'


def user_ids(count: int) -> list[str]:
    return [f"bench-user-{n:05d}" for n in range(count)]


def token_for(user: str, secret: str, ttl: int = 24 * 3600) -> str:
    now = int(time.time())
    return jwt.encode({"sub": user, "iat": now, "exp": now + ttl}, secret, algorithm="HS256")


def rows_for(user: str, count: int, rng: random.Random) -> list[tuple[object, ...]]:
    now = datetime.now(UTC)
    rows: list[tuple[object, ...]] = []
    for n in range(count):
        due = None if rng.random() < 0.4 else now + timedelta(days=rng.randint(-30, 30))
        rows.append(
            (
                user,
                f"Task {n} of {user}",
                None if rng.random() < 0.5 else "Some words about what this task involves",
                rng.choice(PRIORITIES),
                rng.choice(CATEGORIES),
                "completed" if rng.random() < 0.3 else "pending",
                due,
            )
        )
    return rows


def load(
    conninfo: str,
    users: int,
    tasks_per_user: int,
    big_user_tasks: int,
    progress: Callable[[str], None] = print,
) -> None:
    """Migrate, then replace the tasks with the benchmark's data set, vacuumed and analysed."""
    migrate(conninfo)
    rng = random.Random(7)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("TRUNCATE tasks")
        with conn.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
            for index, user in enumerate(user_ids(users)):
                for row in rows_for(user, tasks_per_user, rng):
                    copy.write_row(row)
                if index % 500 == 499:
                    progress(f"  loaded {index + 1}/{users} users")
            for row in rows_for(BIG_USER, big_user_tasks, rng):
                copy.write_row(row)
        conn.execute("VACUUM ANALYZE tasks")  # index-only scans need the visibility map
    progress(f"  {users} users x {tasks_per_user} tasks, and {big_user_tasks} for {BIG_USER}")
