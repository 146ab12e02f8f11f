"""uvicorn with bounds on the request head, and WRITE_TIMEOUT:
`python -m todo_api.uvicorn_bounded [uvicorn flags] app`.

uvicorn's httptools protocol keeps every header line it is sent (one connection streaming
headers grew a worker by 940 MB), and waits forever for a head that never completes. This
protocol counts the request line and headers and, past MAX_HEAD_BYTES, answers 431 and
closes; and it closes a connection whose head is not complete HEADER_READ_TIMEOUT_SECONDS
after it opened (or after the next request's first byte), as hypercorn does on its own.
Each connection also gets the kernel's write timeout (see todo_api.write_timeout).
uvicorn's `--http` flag takes only its own protocol names, while its configuration takes
any import path (each worker process imports the class itself); this entry point runs
uvicorn's own command line with that flag opened up, and `--http PROTOCOL` added.
"""

from __future__ import annotations

import asyncio
import json
import sys

import click
from uvicorn.main import main as uvicorn_main
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from todo_api.servers import HEADER_READ_TIMEOUT_SECONDS, MAX_HEAD_BYTES
from todo_api.write_timeout import set_write_timeout, write_timeout_seconds

WRITE_TIMEOUT_SECONDS = write_timeout_seconds()  # each worker imports this module itself

TOO_LARGE_BODY = json.dumps({"detail": "Request header fields too large"}).encode()
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
    + f"content-length: {len(TOO_LARGE_BODY)}\r\nconnection: close\r\n\r\n".encode()
    + TOO_LARGE_BODY
)


class HeadTooLarge(Exception):
    """Raised from a parser callback; httptools hands it back wrapped, see data_received."""


class BoundedHeadProtocol(HttpToolsProtocol):
    head_bytes = 0
    head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        set_write_timeout(transport.get_extra_info("socket"), WRITE_TIMEOUT_SECONDS)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_arrived()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_bytes = 0
        self._await_head()

    def on_headers_complete(self) -> None:
        self._head_arrived()
        super().on_headers_complete()

    def _await_head(self) -> None:
        self._head_arrived()
        self.head_deadline = self.loop.call_later(HEADER_READ_TIMEOUT_SECONDS, self.transport.close)

    def _head_arrived(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self.head_bytes += size
        if self.head_bytes > MAX_HEAD_BYTES:
            raise HeadTooLarge

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to any parser error, which is how a HeadTooLarge comes back."""
        if self.head_bytes > MAX_HEAD_BYTES:
            self.transport.write(TOO_LARGE)
            self.transport.close()
        else:
            super().send_400_response(msg)


PROTOCOL = f"{__name__}:BoundedHeadProtocol"


def main() -> None:
    for param in uvicorn_main.params:
        if param.name == "http":
            param.type = click.STRING
    uvicorn_main(["--http", PROTOCOL, *sys.argv[1:]], prog_name="uvicorn")


if __name__ == "__main__":
    main()
