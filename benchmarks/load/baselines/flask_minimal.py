"""The Flask handler a developer would write first: two routes, a pool, json.dumps."""

from __future__ import annotations

import flask
from psycopg_pool import ConnectionPool

from benchmarks.load.baselines.common import (
    DATABASE_URL,
    POOL_SIZE,
    STATS_SQL,
    list_query,
    stats_json,
    tasks_json,
    user_id,
)

app = flask.Flask(__name__)
pool = ConnectionPool(DATABASE_URL, min_size=1, max_size=POOL_SIZE, kwargs={"autocommit": True})
JSON = {"Content-Type": "application/json"}


@app.get("/health")
def health() -> tuple[bytes, int, dict[str, str]]:
    return b'{"status":"ok"}', 200, JSON


@app.get("/api/<user>/tasks")
def tasks(user: str) -> tuple[bytes, int, dict[str, str]]:
    if user_id(flask.request.headers.get("Authorization")) != user:
        return b'{"detail":"Unauthorized"}', 401, JSON
    sql, params = list_query(user, flask.request.query_string.decode())
    with pool.connection() as conn:
        return tasks_json(conn.execute(sql, params).fetchall()), 200, JSON


@app.get("/api/<user>/stats")
def stats(user: str) -> tuple[bytes, int, dict[str, str]]:
    if user_id(flask.request.headers.get("Authorization")) != user:
        return b'{"detail":"Unauthorized"}', 401, JSON
    with pool.connection() as conn:
        return stats_json(conn.execute(STATS_SQL, (user,)).fetchall()), 200, JSON
