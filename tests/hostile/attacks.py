"""Bounded attacks on a loopback server, and a prober timing ordinary requests meanwhile.

Every attack here has a fixed number of connections and a deadline: they exist to show
that a server keeps serving others, never to load a machine.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

import attrs

HOST = "127.0.0.1"

Attack = Callable[[int, float], Awaitable[None]]
"""One attacking connection: given the port and when to stop."""


def raw_exchange(port: int, data: bytes, timeout: float = 10.0, quiet: float = 1.5) -> bytes:
    """Send `data` on one connection and read what comes back until the server closes, or
    stays quiet for `quiet` seconds after answering. The connection stays open for
    writing: some servers drop a half-closed one without answering, which would hide
    whether smuggled bytes ran."""
    with socket.create_connection((HOST, port), timeout=timeout) as conn:
        try:
            conn.sendall(data)
        except OSError:  # the server answered and closed before taking it all: read what it said
            pass
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            conn.settimeout(quiet if received else max(0.01, deadline - time.monotonic()))
            try:
                chunk = conn.recv(65536)
            except OSError:  # reset, quiet for long enough, or already closed
                break
            if not chunk:
                break
            received += chunk
        return received


def raw_exchange_slowly(port: int, user: str, authorization: str, seconds: float) -> bytes:
    """A create whose body arrives at one byte a second; whatever the server answers
    within `seconds` (a 408, or nothing)."""
    head = (f"POST /api/{user}/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n").encode()
    with socket.create_connection((HOST, port), timeout=1.0) as conn:
        conn.sendall(head)
        answer = b""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                answer += chunk
            except TimeoutError:
                try:
                    conn.sendall(b" ")
                except OSError:
                    break
            except OSError:
                break
        return answer


def statuses(answer: bytes) -> list[int]:
    """Every status line in a raw answer: two of them mean two requests were served."""
    return [int(line.split(b" ")[1]) for line in answer.split(b"\r\n")
            if line.startswith(b"HTTP/1.") and len(line.split(b" ")) > 1 and line.split(b" ")[1].isdigit()]


@attrs.frozen
class HeaderFlood:
    sent_bytes: int
    answer: bytes


def header_flood(port: int, limit_bytes: int = 4 * 1024 * 1024, timeout: float = 20.0) -> HeaderFlood:
    """One request whose header section never ends, until the server answers or closes
    (or `limit_bytes` were sent: a server that never refuses it)."""
    line = b"X-Flood: " + b"a" * 1000 + b"\r\n"
    sent = 0
    with socket.create_connection((HOST, port), timeout=timeout) as conn:
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        conn.settimeout(0.0)
        answer = b""
        deadline = time.monotonic() + timeout
        while sent < limit_bytes and time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                answer += chunk
                break
            except BlockingIOError:
                pass
            except OSError:
                break
            try:
                sent += conn.send(line)
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                break
        conn.settimeout(2.0)
        try:
            answer += conn.recv(65536)
        except OSError:
            pass
        return HeaderFlood(sent, answer)


async def hold_open(port: int, opening: bytes, drip: bytes, every: float, until: float) -> None:
    """One connection that sends `opening`, then `drip` every `every` seconds until `until`."""
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return
    try:
        if opening:
            writer.write(opening)
        while time.monotonic() < until:
            await asyncio.sleep(every)
            if drip:
                writer.write(drip)
                await writer.drain()
            if reader.at_eof():
                return
    except OSError:
        return
    finally:
        writer.close()


def silent(port: int, until: float) -> Awaitable[None]:
    return hold_open(port, b"", b"", 1.0, until)


def slowloris(port: int, until: float) -> Awaitable[None]:
    return hold_open(port, b"GET /health HTTP/1.1\r\nHost: x\r\n", b"X-a: b\r\n", 5.0, until)


def slow_body_of(user: str, token: str) -> Attack:
    """A signed-in user's create whose 60,000-byte body arrives at one byte a second: the
    token is valid, so the server has to read the body (a forged one gets 401 at once)."""
    head = (f"POST /api/{user}/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n").encode()
    return lambda port, until: hold_open(port, head, b"{", 1.0, until)


def event_streams_of(heads: list[bytes]) -> Attack:
    """Signed-in clients that each open an event stream (one of `heads`, a request each)
    and hold it, reading nothing: a stream holds a thread on WSGI, a coroutine on ASGI."""
    waiting = iter(heads)
    return lambda port, until: hold_open(port, next(waiting), b"", 1.0, until)


@attrs.frozen
class Probe:
    latencies: list[float]
    failures: int

    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("inf")


async def probe(port: int, path: str, headers: dict[str, str], until: float, every: float = 0.05) -> Probe:
    """Ordinary requests, one at a time on fresh connections, each with a 5 s timeout."""
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    latencies: list[float] = []
    failures = 0
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 5)
            writer.write(request.encode())
            answer = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            if not answer.startswith(b"HTTP/1.1 200"):
                failures += 1
            else:
                latencies.append(time.monotonic() - started)
        except (TimeoutError, OSError):
            failures += 1
        await asyncio.sleep(every)
    return Probe(latencies, failures)


async def under_attack(
    port: int, attacks: list[tuple[Attack, int]], path: str, headers: dict[str, str],
    seconds: float, ramp: float = 3.0,
) -> Probe:
    """Open every attacking connection (count per attack), give them `ramp` seconds to
    settle, then probe ordinary requests for `seconds` while they stay open."""
    until = time.monotonic() + ramp + seconds + 1
    tasks = [asyncio.create_task(attack(port, until)) for attack, count in attacks for _ in range(count)]
    await asyncio.sleep(ramp)
    result = await probe(port, path, headers, until - 1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


def unread_answers(port: int, request: bytes, count: int) -> list[socket.socket]:
    """`count` connections that send `request` and never read the answer (a small receive
    buffer, so the answer stays with the server rather than in this process's kernel)."""
    connections = []
    for _ in range(count):
        conn = socket.socket()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.connect((HOST, port))
        conn.sendall(request)
        connections.append(conn)
    return connections


def open_server_sides(port: int, client_ports: set[int]) -> int:
    """How many of these clients' connections the server on `port` still holds
    (established TCP connections in /proc/net/tcp, tcp6)."""
    held = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            next(rows)
            for row in rows:
                local, remote, state = row.split()[1:4]
                if (state == "01" and int(local.rsplit(":", 1)[1], 16) == port
                        and int(remote.rsplit(":", 1)[1], 16) in client_ports):
                    held += 1
    return held
