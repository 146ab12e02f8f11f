"""Plain ASGI, for the Quart glue's direct path: the request's head as the core reads it,
its body from the server's messages, and the core's answer as messages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from werkzeug.exceptions import RequestTimeout

from core.http import Response, lower_headers
from storage.watch_aio import StreamChunks

AsgiApp = Callable[[Any, Any, Any], Awaitable[None]]


def scope_headers(scope: Any) -> dict[str, str]:
    """The request headers the way the core reads them, straight from the ASGI scope."""
    pairs = scope["headers"]
    return lower_headers((name.decode("latin-1"), value.decode("latin-1")) for name, value in pairs)


def scope_path(scope: Any) -> str:
    """The path below the ASGI `root_path` (which `path` includes), as the server sent it."""
    path: str = scope["path"]
    return path.removeprefix(scope.get("root_path", ""))


async def receive_body(receive: Any, max_bytes: int, timeout: float) -> bytes:
    """Up to `max_bytes` of the body, from the server's messages; 408 (as Quart's
    `read_body`) when it takes longer than `timeout` seconds."""
    received = bytearray()
    try:
        async with asyncio.timeout(timeout):
            while len(received) < max_bytes:
                message = await receive()
                if message["type"] != "http.request":
                    break  # http.disconnect
                received += message.get("body", b"")
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        raise RequestTimeout() from None
    return bytes(received[:max_bytes])


async def send_response(send: Any, response: Response) -> None:
    await send({"type": "http.response.start", "status": response.status,
                "headers": [(name.lower().encode(), value.encode()) for name, value in response.headers]})
    await send({"type": "http.response.body", "body": response.body})


async def send_stream(send: Any, receive: Any, response: Response, chunks: StreamChunks,
                      write_timeout: float) -> None:
    """A streamed answer: its head, then each chunk as it comes, until the stream ends, the
    client goes (`http.disconnect`), or a chunk waits `write_timeout` seconds to be taken
    (a server with flow control holds `send` while the client reads nothing)."""
    await send({"type": "http.response.start", "status": response.status,
                "headers": [(name.lower().encode(), value.encode()) for name, value in response.headers]})

    async def stream() -> None:
        async for chunk in chunks:
            async with asyncio.timeout(write_timeout):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def client_gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    tasks = {asyncio.create_task(stream()), asyncio.create_task(client_gone())}
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # a client gone, a write timed out: the end
        await chunks.aclose()
