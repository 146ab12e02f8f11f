"""An ASGI callable with no framework: the ceiling for any async frontend."""

from __future__ import annotations

import asyncio
from typing import Any

from psycopg_pool import AsyncConnectionPool

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

pool: AsyncConnectionPool | None = None
opening = asyncio.Lock()


async def get_pool() -> AsyncConnectionPool:
    global pool
    async with opening:
        if pool is None:
            pool = AsyncConnectionPool(
                DATABASE_URL, min_size=1, max_size=POOL_SIZE, kwargs={"autocommit": True}, open=False
            )
            await pool.open()
    return pool


async def respond(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path in ("/ping", "/health"):
        return await respond(send, 200, b'{"status":"ok"}')
    route = split_path(path)
    if route is None:
        return await respond(send, 404, b'{"detail":"Not Found"}')
    headers = dict(scope["headers"])
    authorization = headers.get(b"authorization", b"").decode()
    if user_id(authorization) != route[1]:
        return await respond(send, 401, b'{"detail":"Unauthorized"}')
    async with (await get_pool()).connection() as conn:
        if route[0] == "tasks":
            sql, params = list_query(route[1], scope["query_string"].decode())
            body = tasks_json(await (await conn.execute(sql, params)).fetchall())
        else:
            body = stats_json(await (await conn.execute(STATS_SQL, (route[1],))).fetchall())
    await respond(send, 200, body)
