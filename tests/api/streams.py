"""Reading a streamed answer (server-sent events) from an in-process client, as it comes.

A WSGI app's answer is iterated in a thread of its own, as a server's worker thread
would; an ASGI app runs on the client's loop with a `receive` that says
`http.disconnect` once the test closes the stream. Either way the chunks land in a queue
that the test reads with a timeout, so a missing event fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any

import attrs

from tests.api.asgi_driver import Message
from tests.api.clients import ApiClient, AsgiClient, WsgiClient, make_call, wsgi_environ

END = None


@attrs.frozen
class Event:
    """One server-sent event, or a comment (`comment` set, the rest empty)."""

    event: str = "message"
    data: str = ""
    id: str | None = None
    comment: str | None = None


def parse_events(text: str) -> tuple[list[Event], str]:
    """The complete events in `text` (WHATWG HTML's event-stream format, LF endings) and
    what is left of an incomplete one."""
    *blocks, rest = text.split("\n\n")
    events = []
    for block in blocks:
        fields: dict[str, str] = {}
        comments = []
        for line in block.split("\n"):
            if line.startswith(":"):
                comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        if fields:
            events.append(Event(fields.get("event", "message"), fields.get("data", ""), fields.get("id")))
        else:
            events.extend(Event(comment=comment) for comment in comments)
    return events, rest


class EventReader:
    """A stream's status, headers and events as they arrive."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunks: queue.Queue[bytes | None] = queue.Queue()
        self.started = threading.Event()
        self.ended = False
        self._text = ""
        self._pending: list[Event] = []

    def next(self, timeout: float = 5.0, *, comments: bool = False) -> Event | None:
        """The next event (comments skipped unless asked for); None when the stream ended;
        AssertionError when nothing came within `timeout` seconds."""
        while True:
            while self._pending:
                event = self._pending.pop(0)
                if comments or event.comment is None:
                    return event
            if self.ended:
                return END
            try:
                chunk = self.chunks.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no event within {timeout} s") from None
            if chunk is END:
                self.ended = True
                continue
            events, self._text = parse_events(self._text + chunk.decode())
            self._pending.extend(events)

    def quiet_for(self, seconds: float) -> list[Event]:
        """Every event (comments aside) that arrives within `seconds`."""
        seen = []
        try:
            while (event := self.next(seconds)) is not None:
                seen.append(event)
        except AssertionError:
            pass
        return seen

    def close(self) -> None:
        raise NotImplementedError


class WsgiEventReader(EventReader):
    def __init__(self, client: WsgiClient, path: str, headers: dict[str, str]) -> None:
        super().__init__()
        environ = wsgi_environ("GET", client.base + path, make_call("GET", path, headers, None, None).headers, b"")

        def start_response(status: str, pairs: list[tuple[str, str]], exc_info: Any = None) -> None:
            self.status = int(status.split()[0])
            self.headers = {name.lower(): value for name, value in pairs}

        self.answer = client.client.application(environ, start_response)
        self.started.set()
        self._closed = threading.Event()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        try:
            for chunk in self.answer:
                self.chunks.put(chunk)
                if self._closed.is_set():
                    break
        finally:
            self.chunks.put(END)

    def close(self) -> None:
        """As a server does when the client goes: close the answer (PEP 3333), from another thread."""
        self._closed.set()
        close = getattr(self.answer, "close", None)
        if close is not None:
            close()
        self.thread.join(timeout=30)


class AsgiEventReader(EventReader):
    def __init__(self, client: AsgiClient, path: str, headers: dict[str, str]) -> None:
        super().__init__()
        self.client = client
        self.gone: asyncio.Event | None = None
        call = make_call("GET", path, headers, None, None)
        target = client.base + path
        route, _, query = target.partition("?")
        self.scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": route, "raw_path": route.encode(),
            "query_string": query.encode(), "root_path": "",
            "headers": [(b"host", b"localhost")] + [(k.lower().encode(), v.encode()) for k, v in call.headers.items()],
            "client": ("127.0.0.1", 50000), "server": ("localhost", 80),
        }
        self.task = asyncio.run_coroutine_threadsafe(self._run(), client.loop)
        assert self.started.wait(10), "no answer's head within 10 s"

    async def _run(self) -> None:
        self.gone = asyncio.Event()
        requested = False

        async def receive() -> Message:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self.gone.wait()  # type: ignore[union-attr]
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
                self.started.set()
            elif message["type"] == "http.response.body":
                if message.get("body"):
                    self.chunks.put(message["body"])
                if not message.get("more_body", False):
                    self.chunks.put(END)

        try:
            await self.client.driver.app(self.scope, receive, send)
        finally:
            self.started.set()
            self.chunks.put(END)

    def close(self) -> None:
        """As a server does when the client goes: `http.disconnect`, then the app returns."""
        if self.gone is not None:
            self.client.loop.call_soon_threadsafe(self.gone.set)
        self.task.result(timeout=30)


def open_events(client: ApiClient, path: str, headers: dict[str, str]) -> EventReader:
    """GET `path` as a stream; close the reader when done (the app's subscription ends with it)."""
    if isinstance(client, WsgiClient):
        return WsgiEventReader(client, path, headers)
    assert isinstance(client, AsgiClient)
    return AsgiEventReader(client, path, headers)
