"""A WSGI callable with no framework: the ceiling for any sync frontend."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from psycopg_pool import ConnectionPool

from benchmarks.load.baselines.common import (
    DATABASE_URL,
    POOL_SIZE,
    STATS_SQL,
    list_query,
    split_path,
    stats_json,
    tasks_json,
    user_id,
)

pool = ConnectionPool(DATABASE_URL, min_size=1, max_size=POOL_SIZE, kwargs={"autocommit": True}, open=False)


def respond(start_response: Callable[..., Any], status: str, body: bytes) -> Iterable[bytes]:
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path in ("/ping", "/health"):
        return respond(start_response, "200 OK", b'{"status":"ok"}')
    route = split_path(path)
    if route is None:
        return respond(start_response, "404 Not Found", b'{"detail":"Not Found"}')
    if user_id(environ.get("HTTP_AUTHORIZATION")) != route[1]:
        return respond(start_response, "401 Unauthorized", b'{"detail":"Unauthorized"}')
    if pool.closed:
        pool.open()
    with pool.connection() as conn:
        if route[0] == "tasks":
            sql, params = list_query(route[1], environ.get("QUERY_STRING", ""))
            body = tasks_json(conn.execute(sql, params).fetchall())
        else:
            body = stats_json(conn.execute(STATS_SQL, (route[1],)).fetchall())
    return respond(start_response, "200 OK", body)
