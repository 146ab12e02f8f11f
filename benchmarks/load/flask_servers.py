"""Benchmark part `flask_servers`: the Flask frontend under each server design, side by side.

Chosen again by measurement (#21): granian as offered (its own command line, SO_REUSEPORT
per worker, no write timeout), granian as it was (one listening socket shared by the
workers, made through granian's internals so that WRITE_TIMEOUT_SECONDS could be set on it), and
uvicorn running Flask through a2wsgi (the event loop reads requests and writes answers;
Flask runs in a thread pool). In interleaved rounds, each design serves the API and the
raw WSGI callable on the list and the stats; the API also with the database 10 ms away.
Then `--flask-stops` stops after load, signalled as `serve` signals (the main process,
once), counted clean when the server exits 0 with no worker killed or lost.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from benchmarks.load import generators, latency, report
from benchmarks.load.generators import Measurement
from benchmarks.load.servers import BASELINES, STUCK_STOP_SIGNS, Running, Target, tree_rss_kib
from todo_api.config.settings import Settings
from todo_api.serve.frontends import FRONTENDS
from todo_api.serve.servers import server_command

ENDPOINTS = ("list", "stats")
RTT_MS = 10.0


def granian_offered(app: str, port: int, workers: int) -> list[str]:
    threads = Settings.from_env(os.environ).wsgi_threads
    return server_command("granian", app, "wsgi", "127.0.0.1", port, workers, threads)


def granian_shared_socket(app: str, port: int, workers: int) -> list[str]:
    command = granian_offered(app, port, workers)
    return [sys.executable, "-m", "benchmarks.load.designs.granian_shared_socket", *command[3:]]


def uvicorn_a2wsgi(app: str, port: int, workers: int) -> list[str]:
    wrapped = {FRONTENDS["flask"].app: "api", BASELINES[("flask", "raw")]: "raw"}[app]
    return server_command("uvicorn", f"benchmarks.load.designs.a2wsgi_apps:{wrapped}", "asgi", "127.0.0.1",
                          port, workers)


DESIGNS: dict[str, Callable[[str, int, int], list[str]]] = {
    "granian (offered)": granian_offered,
    "granian, shared socket (until #21)": granian_shared_socket,
    "uvicorn + a2wsgi": uvicorn_a2wsgi,
}


@attrs.frozen
class DesignTarget(Target):
    """A Target whose command is one of DESIGNS (Running starts it like any other)."""

    design: str = ""

    @property
    def name(self) -> str:
        slug = "".join(c if c.isalnum() else "-" for c in self.design.lower())
        return f"flask-design/{slug}/{self.kind}"

    @property
    def label(self) -> str:
        return f"{'todo-api flask' if self.kind == 'api' else 'raw WSGI'} · {self.design}"

    def command(self, port: int, workers: int) -> list[str]:
        return DESIGNS[self.design](self.app, port, workers)


@attrs.define
class DesignResult:
    design: str
    rounds: dict[tuple[str, str], list[Measurement]] = attrs.Factory(dict)  # (kind, endpoint) -> rounds
    far: dict[str, list[Measurement]] = attrs.Factory(dict)  # endpoint -> rounds, database 10 ms away
    rss_mib: list[float] = attrs.Factory(list)  # the API's workers after a round's load
    stops: list[tuple[int | None, float, bool]] = attrs.Factory(list)  # status, seconds, clean

    def median(self, kind: str, endpoint: str) -> Measurement:
        return report.median_round(self.rounds[(kind, endpoint)])

    def spread(self, kind: str, endpoint: str) -> float:
        rates = [each.rps for each in self.rounds[(kind, endpoint)]]
        return max(rates) / min(rates) if min(rates) else float("inf")


def stop_as_serve_does(server: Running, grace: float = 10.0) -> tuple[int | None, float, bool]:
    """SIGTERM to the server's main process only, once; (status, seconds, clean)."""
    started = time.monotonic()
    os.kill(server.process.pid, signal.SIGTERM)
    try:
        status: int | None = server.process.wait(timeout=grace + 5)
    except subprocess.TimeoutExpired:
        status = None
    took = time.monotonic() - started
    server.stop()  # the whole group, whatever is left
    log = Path(server.log.name).read_text(errors="replace")
    stuck = any(sign in log for sign in STUCK_STOP_SIGNS)
    clean = status in (0, -signal.SIGTERM) and took < grace and not stuck
    return status, took, clean


def sweep(args: argparse.Namespace, sets: dict[str, tuple[list[tuple[str, str]], Path]], env: dict[str, str],
          workdir: Path) -> list[DesignResult]:
    results = {design: DesignResult(design) for design in DESIGNS}
    for round_number in range(1, args.rounds + 1):
        for design, result in results.items():
            for kind in ("api", "raw"):
                target = DesignTarget("flask", "design", kind, design=design)
                print(f"[flask servers, round {round_number}/{args.rounds}] {target.label}", flush=True)
                server = Running.start(target, args.workers, env, workdir, tag=f"round{round_number}")
                for endpoint in ENDPOINTS:
                    measured = generators.measure_endpoint(server.port, endpoint, sets[endpoint],
                                                           args.connections, args.warmup, args.seconds)
                    result.rounds.setdefault((kind, endpoint), []).append(measured)
                if kind == "api":
                    result.rss_mib.append(tree_rss_kib(server.process.pid) / 1024)
                result.stops.append(stop_as_serve_does(server))
            with latency.database_at(RTT_MS, env) as far_env:
                target = DesignTarget("flask", "design", "api", design=design)
                print(f"[flask servers, round {round_number}/{args.rounds}] {target.label}, database "
                      f"{RTT_MS:g} ms away", flush=True)
                server = Running.start(target, args.workers, far_env, workdir, tag=f"far{round_number}")
                for endpoint in ENDPOINTS:
                    result.far.setdefault(endpoint, []).append(generators.measure_endpoint(
                        server.port, endpoint, sets[endpoint], args.connections, args.warmup, args.seconds))
                result.stops.append(stop_as_serve_does(server))
    for design, result in results.items():  # stops after a short load, up to --flask-stops in all
        target = DesignTarget("flask", "design", "api", design=design)
        while len(result.stops) < args.flask_stops:
            server = Running.start(target, args.workers, env, workdir, tag=f"stop{len(result.stops)}")
            generators.measure_endpoint(server.port, "stats", sets["stats"], args.connections, 0, 1.0)
            result.stops.append(stop_as_serve_does(server))
        print(f"[flask servers] {design}: {sum(clean for *_, clean in result.stops)} of {len(result.stops)} "
              "stops clean", flush=True)
    return list(results.values())


def markdown(results: list[DesignResult], connections: int) -> str:
    bound = connections / (RTT_MS / 1000)
    lines = [
        "| Flask under | list req/s (/ raw) | stats req/s (/ raw) | spread list / stats (raw's) | "
        f"{RTT_MS:g} ms database: list / stats (/ min(bound, 0 ms)) | workers' memory | clean stops |",
        "|---|---:|---:|---|---|---:|---:|",
    ]
    for result in results:
        cells = []
        for endpoint in ENDPOINTS:
            api, raw = result.median("api", endpoint).rps, result.median("raw", endpoint).rps
            cells.append(f"{api:,.0f} ({api / raw:.2f}x)" if raw else f"{api:,.0f}")
        spreads = " / ".join(f"{result.spread('api', e):.2f} ({result.spread('raw', e):.2f})"
                             for e in ENDPOINTS)
        far = []
        for endpoint in ENDPOINTS:
            rate = report.median_round(result.far[endpoint]).rps
            near = result.median("api", endpoint).rps
            far.append(f"{rate:,.0f} ({rate / min(bound, near):.2f})")
        memory = f"{max(result.rss_mib):,.0f} MiB"
        clean = f"{sum(ok for *_, ok in result.stops)} of {len(result.stops)}"
        lines.append(f"| {result.design} | {cells[0]} | {cells[1]} | {spreads} | {' / '.join(far)} | "
                     f"{memory} | {clean} |")
    return "\n".join(lines) + "\n"


def save(results: list[DesignResult], out: Path, connections: int, run: dict[str, Any]) -> str:
    rows = [{"design": r.design,
             "rounds_rps": {f"{kind} {endpoint}": [m.rps for m in rounds] for (kind, endpoint), rounds in
                            r.rounds.items()},
             "far_rps": {endpoint: [m.rps for m in rounds] for endpoint, rounds in r.far.items()},
             "rss_mib": r.rss_mib, "stops": [list(stop) for stop in r.stops]} for r in results]
    return report.save_part(out, "flask_servers", markdown(results, connections), rows, run)
