"""A minimal ASGI server without sockets: lifespan and HTTP requests, in-process.

Enough of the ASGI 3 spec for tests: the scope a server would build (`path` decoded from
the percent-encoded target, `raw_path` as sent, `root_path` empty), the body in chunks
as a server receives it, and `http.disconnect` once the answer is complete. It knows no
framework, so any ASGI app, or a middleware in front of one, is driven the same way.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote

import attrs

CHUNK = 16 * 1024
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
"""Where a client sends Content-Length: 0 for an empty body (browsers, fetch, curl)."""

Message = dict[str, Any]


class LifespanFailed(RuntimeError):
    pass


@attrs.frozen
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    body_read: int
    """How many bytes of the request body the app received."""


class AsgiDriver:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._lifespan_inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._lifespan_outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._lifespan: asyncio.Task[None] | None = None

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self._lifespan = asyncio.create_task(self.app(scope, self._lifespan_inbox.get, self._lifespan_outbox.put))
        await self._lifespan_step("lifespan.startup")

    async def stop(self) -> None:
        if self._lifespan is not None:
            await self._lifespan_step("lifespan.shutdown")
            await self._lifespan

    async def _lifespan_step(self, event: str) -> None:
        await self._lifespan_inbox.put({"type": event})
        answer = await self._lifespan_outbox.get()
        if answer["type"] != f"{event}.complete":
            raise LifespanFailed(answer.get("message", answer["type"]))

    async def request(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"") -> Answer:
        path, _, query = target.partition("?")
        names = {name.lower() for name, _ in headers}
        sent = [("host", "localhost"), *headers]
        if "content-length" not in names and "transfer-encoding" not in names and (body or method in BODY_METHODS):
            sent.append(("content-length", str(len(body))))
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": unquote(path), "raw_path": path.encode(),
            "query_string": query.encode(), "root_path": "",
            "headers": [(name.lower().encode(), value.encode()) for name, value in sent],
            "client": ("127.0.0.1", 50000), "server": ("localhost", 80),
        }
        chunks = [body[i:i + CHUNK] for i in range(0, len(body), CHUNK)] or [b""]
        inbox: list[Message] = [
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
        ]
        answered = asyncio.Event()
        start: Message = {}
        parts: list[bytes] = []

        delivered = 0

        async def receive() -> Message:
            nonlocal delivered
            if inbox:
                delivered += len(inbox[0]["body"])
                return inbox.pop(0)
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
                if not message.get("more_body", False):
                    answered.set()

        await self.app(scope, receive, send)
        answered.set()
        pairs = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in start.get("headers", [])]
        return Answer(start["status"], pairs, b"".join(parts), delivered)
