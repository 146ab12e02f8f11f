"""The Quart handler a developer would write first: two routes, an async pool, json.dumps."""

from __future__ import annotations

import quart
from psycopg_pool import AsyncConnectionPool

from benchmarks.load.baselines.common import (
    DATABASE_URL,
    POOL_SIZE,
    STATS_SQL,
    list_query,
    stats_json,
    tasks_json,
    user_id,
)

app = quart.Quart(__name__)
pool = AsyncConnectionPool(
    DATABASE_URL, min_size=1, max_size=POOL_SIZE, kwargs={"autocommit": True}, open=False
)
JSON = {"Content-Type": "application/json"}


@app.before_serving
async def open_pool() -> None:
    await pool.open()


@app.get("/health")
async def health() -> tuple[bytes, int, dict[str, str]]:
    return b'{"status":"ok"}', 200, JSON


@app.get("/api/<user>/tasks")
async def tasks(user: str) -> tuple[bytes, int, dict[str, str]]:
    if user_id(quart.request.headers.get("Authorization")) != user:
        return b'{"detail":"Unauthorized"}', 401, JSON
    sql, params = list_query(user, quart.request.query_string.decode())
    async with pool.connection() as conn:
        return tasks_json(await (await conn.execute(sql, params)).fetchall()), 200, JSON


@app.get("/api/<user>/stats")
async def stats(user: str) -> tuple[bytes, int, dict[str, str]]:
    if user_id(quart.request.headers.get("Authorization")) != user:
        return b'{"detail":"Unauthorized"}', 401, JSON
    async with pool.connection() as conn:
        return stats_json(await (await conn.execute(STATS_SQL, (user,))).fetchall()), 200, JSON
