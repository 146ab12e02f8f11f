"""A TCP proxy that puts a fixed round-trip time between the API and PostgreSQL.

The API's users reach their database across a network (Neon, a managed PostgreSQL, a
pooler), a few to tens of milliseconds away. This proxy makes that distance on one
machine: every chunk of bytes is held back half the round trip in each direction, in
order, so a query that PostgreSQL answers at once still costs one round trip. Opening a
connection costs one more (the TCP handshake a real network would add).

Run as its own process, so that its event loop never competes with the servers' GIL:

    python -m benchmarks.load.latency_proxy --upstream /tmp/pg/.s.PGSQL.5432 --rtt-ms 10

It prints `listening on 127.0.0.1:PORT` once ready. `--upstream` is a Unix socket path
or `host:port`. `LatencyProxy` starts and stops it for the benchmark and the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import heapq
import itertools
import os
import signal
import subprocess
import sys
import time
from typing import Any, cast

from benchmarks.load import kernel_timer
from benchmarks.load.kernel_timer import KernelTimer

HIGH_WATER = 1 << 20  # bytes held for a slow receiver before the sender is paused


class Clock:
    """Writes each chunk when it falls due, within tens of microseconds.

    One timer for all connections, armed for the earliest moment a direction waits for: a
    timerfd (`kernel_timer`), since the loop's own timers have milliseconds, and the 1 ms
    tick this replaced added 0.5-1.5 ms to each hop (a "10 ms" database measured 10.5-11.5
    ms away, a "2 ms" one 2.9 ms: #21). Times are `time.monotonic()`, the timerfd's clock
    (uvloop's `loop.time()` is cached in milliseconds)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.due: list[tuple[float, int, Direction]] = []  # a heap; the int keeps ties in order
        self.order = itertools.count()
        self.armed_for: float | None = None
        self.timer = KernelTimer() if kernel_timer.available() else None
        self.fallback: asyncio.TimerHandle | None = None  # elsewhere: the loop's timer
        if self.timer is not None:
            loop.add_reader(self.timer.fileno(), self.tick)

    now = staticmethod(time.monotonic)

    def wake(self, direction: Direction, when: float) -> None:
        """Flush `direction` at `when`."""
        heapq.heappush(self.due, (when, next(self.order), direction))
        if self.armed_for is None or when < self.armed_for:
            self.arm(when)

    def arm(self, when: float) -> None:
        self.armed_for = when
        if self.timer is not None:
            self.timer.arm(when)
        else:
            if self.fallback is not None:
                self.fallback.cancel()
            self.fallback = self.loop.call_later(max(0.0, when - self.now()), self.tick)

    def tick(self) -> None:
        if self.timer is not None:
            self.timer.clear()
        self.armed_for = None
        now = self.now()
        while self.due and self.due[0][0] <= now:
            heapq.heappop(self.due)[2].flush(now)
        if self.due:
            self.arm(self.due[0][0])


class Direction:
    """Bytes flowing one way: each chunk is written `delay` seconds after it arrived, in order."""

    def __init__(self, clock: Clock, delay: float, on_done: Any) -> None:
        self.clock, self.delay, self.on_done = clock, delay, on_done
        self.pending: collections.deque[tuple[float, bytes | None]] = collections.deque()
        self.target: asyncio.Transport | None = None  # set once the far side is connected
        self.source: asyncio.Transport | None = None
        self.done = False

    def push(self, data: bytes | None) -> None:
        """Queue a chunk (None: the sender is done) to be delivered after the delay."""
        if not self.done:
            self.pending.append((self.clock.now() + self.delay, data))
            self.schedule()

    def schedule(self) -> None:
        """Have the newest chunk written when it falls due (once the far side is connected)."""
        if self.pending and self.target is not None:
            if self.delay == 0:
                self.flush(self.pending[-1][0])  # no delay: written at once, not by the clock
            else:
                self.clock.wake(self, self.pending[-1][0])

    def flush(self, now: float) -> bool:
        """Write every chunk that is due; True when nothing is left to wait for."""
        target = self.target
        assert target is not None
        while self.pending and self.pending[0][0] <= now:
            _, data = self.pending.popleft()
            if data is None:
                self.pending.clear()
                self.done = True
                if not target.is_closing() and target.can_write_eof():
                    target.write_eof()
                self.on_done()
                return True
            if not target.is_closing():
                target.write(data)
        return not self.pending


class Side(asyncio.Protocol):
    """One of the proxy's two connections; what it receives goes to `outgoing`."""

    def __init__(self, outgoing: Direction, incoming: Direction) -> None:
        self.outgoing, self.incoming = outgoing, incoming
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        self.transport = transport
        transport.set_write_buffer_limits(high=HIGH_WATER)
        self.incoming.target = transport  # what arrives from the far side is written here
        self.outgoing.source = transport
        for due, _ in self.incoming.pending:  # what arrived while the far side was connecting
            self.incoming.clock.wake(self.incoming, due)

    def data_received(self, data: bytes) -> None:
        self.outgoing.push(data)

    def eof_received(self) -> bool:
        self.outgoing.push(None)
        return True  # keep our writing half open until the far side's EOF arrives

    def connection_lost(self, exc: Exception | None) -> None:
        self.outgoing.push(None)

    def pause_writing(self) -> None:  # our receiver is slow: stop reading from the sender
        if self.incoming.source is not None:
            self.incoming.source.pause_reading()

    def resume_writing(self) -> None:
        if self.incoming.source is not None:
            self.incoming.source.resume_reading()


class Link:
    """A client connection and its upstream connection; closed once both directions are done."""

    def __init__(self, clock: Clock, one_way: float) -> None:
        self.to_server = Direction(clock, one_way, self.maybe_close)
        self.to_client = Direction(clock, one_way, self.maybe_close)
        self.client = Side(self.to_server, self.to_client)
        self.server = Side(self.to_client, self.to_server)

    def maybe_close(self) -> None:
        if self.to_server.done and self.to_client.done:
            for side in (self.client, self.server):
                if side.transport is not None:
                    side.transport.close()


async def open_upstream(loop: asyncio.AbstractEventLoop, upstream: str, side: Side) -> None:
    if upstream.startswith("/"):
        await loop.create_unix_connection(lambda: side, upstream)
    else:
        host, _, port = upstream.rpartition(":")
        await loop.create_connection(lambda: side, host, int(port))


async def serve(upstream: str, rtt: float, host: str = "127.0.0.1", port: int = 0) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    one_way = rtt / 2
    clock = Clock(loop)

    def accept() -> Side:
        link = Link(clock, one_way)

        async def connect() -> None:
            await asyncio.sleep(rtt)  # the TCP handshake a real network would cost
            try:
                await open_upstream(loop, upstream, link.server)
            except OSError:
                if link.client.transport is not None:
                    link.client.transport.close()

        tasks.add(task := loop.create_task(connect()))
        task.add_done_callback(tasks.discard)
        return link.client

    tasks: set[asyncio.Task[None]] = set()
    return await loop.create_server(accept, host, port)


async def main(upstream: str, rtt_ms: float, port: int) -> None:
    server = await serve(upstream, rtt_ms / 1000, port=port)
    address = server.sockets[0].getsockname()
    print(f"listening on {address[0]}:{address[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()


class LatencyProxy:
    """The proxy as a child process: `with LatencyProxy(upstream, rtt_ms) as proxy: proxy.port`."""

    def __init__(self, upstream: str, rtt_ms: float) -> None:
        self.upstream, self.rtt_ms = upstream, rtt_ms
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    def start(self) -> LatencyProxy:
        command = [sys.executable, "-m", "benchmarks.load.latency_proxy",
                   "--upstream", self.upstream, "--rtt-ms", str(self.rtt_ms)]
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = {**os.environ, "PYTHONPATH": root}
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"the latency proxy did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def unix_socket_of(conninfo: str) -> str | None:
    """The socket file of a PostgreSQL reached over a Unix socket (the embedded one), else None."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(conninfo)
    host = str(params.get("host") or "")
    if not host.startswith("/"):
        return None
    return os.path.join(host, f".s.PGSQL.{params.get('port') or 5432}")


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load.latency_proxy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", required=True, help="a Unix socket path, or host:port")
    parser.add_argument("--rtt-ms", type=float, required=True, help="the round trip to add, in ms")
    parser.add_argument("--port", type=int, default=0, help="where to listen on 127.0.0.1 (0: any free port)")
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(args.upstream, args.rtt_ms, args.port))
    else:
        uvloop.run(main(args.upstream, args.rtt_ms, args.port))


if __name__ == "__main__":
    run()
