"""uvicorn's httptools protocol behind a gate that bounds each request head.

uvicorn keeps every header line it is sent (one connection streaming headers grew a
worker by 940 MB) and waits forever for a head that never completes. The gate parses the
same bytes with httptools (its public parser), counts the request line and headers and,
past MAX_HEAD_BYTES, answers 431 and closes; it closes a connection whose head is not
complete HEADER_READ_TIMEOUT_SECONDS after it opened, or after the next request's first
byte. Everything else is uvicorn's own protocol, which the gate hands every byte and
every event: it is given to uvicorn by its public `http=` setting, and depends on no
method of uvicorn's class but those of `asyncio.Protocol`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from todo_api.serve.servers import HEADER_READ_TIMEOUT_SECONDS, MAX_HEAD_BYTES

TOO_LARGE_BODY = json.dumps({"detail": "Request header fields too large"}).encode()
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
    + f"content-length: {len(TOO_LARGE_BODY)}\r\nconnection: close\r\n\r\n".encode()
    + TOO_LARGE_BODY
)


class HeadTooLarge(Exception):
    """Raised from a parser callback; httptools hands it back as HttpParserCallbackError."""


class BoundedHeadProtocol(asyncio.Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.inner = HttpToolsProtocol(*args, **kwargs)
        self.parser = httptools.HttpRequestParser(self)
        self.gating = True  # until the connection is upgraded, or its bytes are not HTTP/1
        self.head_bytes = 0
        self.head_deadline: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None

    # asyncio.Protocol: everything reaches uvicorn's protocol, the data once it passed the gate
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is one, not a subclass
        self.inner.connection_made(self.transport)
        self._await_head()

    def data_received(self, data: bytes) -> None:
        if self.gating:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserCallbackError:
                if self.head_bytes > MAX_HEAD_BYTES:
                    self._refuse_head()
                    return
                self.gating = False
            except httptools.HttpParserUpgrade:
                self.gating = False  # a WebSocket, say: no longer HTTP/1 requests
            except httptools.HttpParserError:
                self.gating = False  # uvicorn's own parser answers 400 to the same bytes
            if not self.gating:
                self._head_arrived()
        self.inner.data_received(data)

    def eof_received(self) -> None:
        self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_arrived()
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.head_bytes = 0
        self._await_head()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF

    def on_headers_complete(self) -> None:
        self._head_arrived()

    def _count(self, size: int) -> None:
        self.head_bytes += size
        if self.head_bytes > MAX_HEAD_BYTES:
            raise HeadTooLarge

    def _refuse_head(self) -> None:
        assert self.transport is not None
        self._head_arrived()
        self.transport.write(TOO_LARGE)
        self.transport.close()

    def _await_head(self) -> None:
        assert self.transport is not None
        self._head_arrived()
        self.head_deadline = asyncio.get_running_loop().call_later(
            HEADER_READ_TIMEOUT_SECONDS, self.transport.close)

    def _head_arrived(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None
