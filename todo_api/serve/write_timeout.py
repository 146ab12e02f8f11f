"""WRITE_TIMEOUT_SECONDS on every offered server, enforced by the kernel (TCP_USER_TIMEOUT).

None of the servers gives up on a client that stops reading its answer: the answer stays
in the worker's memory until the client goes. Linux can: a connection whose sent data
stays unacknowledged, or unsent because the client's receive window stays shut, for
TCP_USER_TIMEOUT is reset; the server's next write fails and it frees the answer. The
clock restarts whenever the client takes data, so a slow reader is not cut, only one that
stops (like nginx's `send_timeout`). It does nothing to an idle connection with nothing
to send. Accepted connections inherit it from the listening socket.

`todo_api.serve.listening` sets it on the listening sockets it makes (uvicorn's, through its
launcher); granian makes its own, so under granian nothing sets it (docs/operating.md).
On a system without the option nothing is set, and docs/security.md says so.
"""

from __future__ import annotations

import socket
from typing import Protocol

from todo_api.config.settings import load_settings


class HasSocketOptions(Protocol):
    """A socket, or asyncio's wrapper of a transport's socket."""

    def setsockopt(self, level: int, option: int, value: int, /) -> None: ...


def write_timeout_seconds() -> float:
    """WRITE_TIMEOUT_SECONDS as the server's workers see it (the environment `serve` gave them)."""
    return load_settings().write_timeout_seconds


def set_write_timeout(sock: HasSocketOptions, seconds: float) -> bool:
    """Apply the timeout to `sock` (and, for a listening socket, to what it accepts).

    False where the system has no such option (only Linux has it).
    """
    option = getattr(socket, "TCP_USER_TIMEOUT", None)
    if option is None:
        return False
    sock.setsockopt(socket.IPPROTO_TCP, option, round(seconds * 1000))
    return True

