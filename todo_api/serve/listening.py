"""The listening socket: one server per port, and WRITE_TIMEOUT_SECONDS on what it accepts.

Every offered server binds with SO_REUSEPORT or inherits a socket, so a second `serve` on
a busy port would start without a word and the kernel would share the connections out
between the two (an old and a new version answering side by side). Binding here without
SO_REUSEPORT fails on a port that anything listens on, which is how `serve` refuses.
"""

from __future__ import annotations

import errno
import socket

from todo_api.config.settings import ConfigError
from todo_api.serve.write_timeout import set_write_timeout


class PortInUse(ConfigError):
    """Another process listens on the address `serve` was asked to use."""


def bound_socket(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to (host, port), with SO_REUSEADDR (a restart is not refused for
    connections of the last run still in TIME_WAIT); PortInUse when something listens.
    `reuse_port`: one of a group of sockets on the port, which the kernel deals new
    connections out to evenly (SO_REUSEPORT), for the workers of one server."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is already in use (another server listens there): "
                            f"stop it, or choose another --port") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return sock


def refuse_if_in_use(host: str, port: int) -> None:
    """For a server that binds its own sockets: fail now if the port is taken."""
    bound_socket(host, port).close()


def listening_socket(host: str, port: int, backlog: int, write_timeout: float,
                     reuse_port: bool = False) -> socket.socket:
    """A socket listening on (host, port) whose accepted connections inherit WRITE_TIMEOUT_SECONDS
    (TCP_USER_TIMEOUT) and TCP_NODELAY, inheritable by a server's worker."""
    sock = bound_socket(host, port, reuse_port)
    set_write_timeout(sock, write_timeout)
    # Inherited by accepted connections too. uvicorn wraps a socket given by `fd` as
    # AF_UNIX, so the event loop does not set it itself: without it, Nagle's algorithm
    # and delayed ACKs held each answer ~40 ms (700 requests/s instead of 28,000).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock
