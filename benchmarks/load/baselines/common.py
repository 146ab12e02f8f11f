"""What every baseline shares: the token check, the two queries, the JSON dump."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

import jwt

from core.tasks import FIELDS
from todo_api.config.settings import Settings

SECRET = os.environ.get("BETTER_AUTH_SECRET", "")
DATABASE_URL = os.environ.get("DATABASE_URL", "")
POOL_SIZE = Settings.from_env(os.environ).db_pool_max_size  # sized as the API's, for a fair comparison

COLUMNS = tuple(field.name for field in FIELDS)  # each is also a column of the table
SELECT = "SELECT " + ", ".join(f'"{c}"' for c in COLUMNS) + ' FROM tasks WHERE "userId" = %s'
STATS_SQL = (
    'SELECT status, priority, category, count(*), count(*) FILTER (WHERE "dueDate" < now()) '
    'FROM tasks WHERE "userId" = %s GROUP BY 1, 2, 3'
)


def user_id(authorization: str | None) -> str | None:
    if not authorization or not authorization.startswith("Bearer "):
        return None
    try:
        return jwt.decode(authorization[7:], SECRET, algorithms=["HS256"])["sub"]  # type: ignore[no-any-return]
    except jwt.InvalidTokenError:
        return None


def list_query(user: str, query_string: str) -> tuple[str, list[Any]]:
    args = {k: v[0] for k, v in parse_qs(query_string).items()}
    sql, params = SELECT, [user]
    for column in ("status", "priority", "category"):
        if column in args:
            sql += f" AND {column} = %s"
            params.append(args[column])
    sort = {"dueDate": '"dueDate"', "priority": "priority", "title": "title"}.get(
        args.get("sort_by", ""), '"createdAt"'
    )
    direction = "ASC" if args.get("sort_order") == "asc" else "DESC"
    return f"{sql} ORDER BY {sort} {direction}", params


def encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(type(value))


def tasks_json(rows: list[tuple[Any, ...]]) -> bytes:
    return json.dumps([dict(zip(COLUMNS, row, strict=True)) for row in rows], default=encode).encode()


def stats_json(rows: list[tuple[Any, ...]]) -> bytes:
    stats: dict[str, Any] = {
        "total": 0,
        "pending": 0,
        "completed": 0,
        "overdue": 0,
        "byPriority": {"low": 0, "medium": 0, "high": 0},
        "byCategory": {"work": 0, "personal": 0, "home": 0, "other": 0},
    }
    for status, priority, category, count, past_due in rows:
        stats["total"] += count
        stats[status] += count
        stats["byPriority"][priority] += count
        stats["byCategory"][category] += count
        if status == "pending":
            stats["overdue"] += past_due
    return json.dumps(stats).encode()


def split_path(path: str) -> tuple[str, str] | None:
    """("tasks" | "stats", user id) for the two benchmarked routes, else None."""
    parts = path.split("/")
    if len(parts) == 4 and parts[1] == "api" and parts[3] in ("tasks", "stats"):
        return parts[3], parts[2]
    return None
