"""Load generators: wrk when installed (C, cheap per request), else a built-in asyncio one.

Both drive keep-alive connections for a fixed time, cycling through (path, token) pairs,
and report requests per second, latency percentiles, transport errors and non-200 answers.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path

import attrs

WRK_SCRIPT = Path(__file__).with_name("wrk_script.lua")


@attrs.frozen
class Measurement:
    requests: int
    seconds: float
    errors: int  # connect, read, write and timeout failures
    non200: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    bytes_per_answer: float = 0.0  # head and body (the built-in generator counts them)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    port: int, requests_file: Path, connections: int, seconds: float, threads: int = 2
) -> Measurement:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        str(WRK_SCRIPT),
        f"http://127.0.0.1:{port}",
        "--",
        str(requests_file),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    line = next(row for row in output.splitlines() if row.startswith("RESULT "))
    requests, duration_us, errors, non200, p50, p90, p99 = (int(v) for v in line.split()[1:])
    return Measurement(requests, duration_us / 1e6, errors, non200, p50 / 1000, p90 / 1000, p99 / 1000)


async def _drive(
    port: int,
    pairs: list[tuple[str, str]],
    start: int,
    deadline: float,
    latencies: list[float],
    counts: dict[str, int],
    extra_headers: str = "",
    expected: bytes = b"200",
) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        counts["errors"] += 1
        return
    index = start
    while time.perf_counter() < deadline:
        path, token = pairs[index % len(pairs)]
        index += 1
        began = time.perf_counter()
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"{extra_headers}\r\n".encode()
        )
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            counts["errors"] += 1
            return
        latencies.append(time.perf_counter() - began)
        counts["bytes"] += len(head) + length
        if head[9:12] != expected:
            counts["non200"] += 1
    writer.close()


def run_builtin(port: int, pairs: list[tuple[str, str]], connections: int, seconds: float,
                extra_headers: str = "", expected: bytes = b"200") -> Measurement:
    """`extra_headers` ("Name: value\r\n" lines) go with every request; an answer whose
    status is not `expected` counts in `non200`."""
    latencies: list[float] = []
    counts = {"errors": 0, "non200": 0, "bytes": 0}

    async def main() -> float:
        began = time.perf_counter()
        deadline = began + seconds
        await asyncio.gather(*(
            _drive(port, pairs, n * 7919, deadline, latencies, counts, extra_headers, expected)
            for n in range(connections)
        ))
        return time.perf_counter() - began

    elapsed = asyncio.run(main())
    ordered = sorted(latencies) or [0.0]

    def percentile(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return Measurement(
        len(latencies),
        elapsed,
        counts["errors"],
        counts["non200"],
        percentile(0.50),
        percentile(0.90),
        percentile(0.99),
        counts["bytes"] / max(1, len(latencies)),
    )


def measure(
    port: int, pairs: list[tuple[str, str]], requests_file: Path, connections: int, seconds: float
) -> Measurement:
    if have_wrk():
        return run_wrk(port, requests_file, connections, seconds)
    return run_builtin(port, pairs, connections, seconds)


def measure_endpoint(
    port: int, endpoint: str, requests: tuple[list[tuple[str, str]], Path], connections: int,
    warmup: float, seconds: float,
) -> Measurement:
    """Warm up, measure, and print the one-line result of one endpoint of a running server.

    A cell that answered nothing, or failed a request, is warmed up and measured once
    more, saying so: one stall of a server (a baseline under granian once answered no
    request for 2 s in CI) does not fail the run; the same failure twice does."""
    pairs, path = requests
    for attempt in ("", " (measured again)"):
        if warmup:
            measure(port, pairs, path, connections, warmup)
        result = measure(port, pairs, path, connections, seconds)
        print(f"    {endpoint:14} {result.rps:8,.0f} req/s  p99 {result.p99_ms:6.1f} ms"
              f"  failed {result.errors + result.non200}{attempt}", flush=True)
        if result.requests and not (result.errors or result.non200):
            break
    return result
