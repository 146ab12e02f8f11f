"""What is benchmarked: each app (ours or a baseline) under each production server."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import attrs

from benchmarks.load.slowed import SLOWED_API_ENV
from todo_api.config.settings import Settings
from todo_api.observe.metrics import MULTIPROCESS_DIRECTORY
from todo_api.serve.frontends import FRONTENDS
from todo_api.serve.servers import server_command

KINDS = ("api", "minimal", "raw")
BASELINES = {  # the apps of kind "api" are the frontends' own (todo_api.serve.frontends)
    ("flask", "minimal"): "benchmarks.load.baselines.flask_minimal:app",
    ("flask", "raw"): "benchmarks.load.baselines.raw_wsgi:app",
    ("quart", "minimal"): "benchmarks.load.baselines.quart_minimal:app",
    ("quart", "raw"): "benchmarks.load.baselines.raw_asgi:app",
}


STUCK_STOP_SIGNS = ("Killing worker", "refused to gracefully stop", "Unexpected exit", "did not stop in time")
"""What granian, uvicorn or `serve` print when a worker did not stop by itself."""


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid`, in pid order (Linux: /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            if parent == pid:
                found.append(int(entry))
    return sorted(found)


def tree_rss_kib(pid: int) -> int:
    """Resident memory of every process under `pid` (a server's workers), in KiB."""
    total, stack = 0, children_of(pid)
    while stack:
        child = stack.pop()
        stack.extend(children_of(child))
        try:
            status = Path(f"/proc/{child}/status").read_text().splitlines()
            total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # type: ignore[no-any-return]


@attrs.frozen
class Target:
    framework: str  # "flask" (WSGI side) or "quart" (ASGI side)
    server: str
    kind: str  # "api" (this project), "minimal" (framework baseline), "raw" (no framework)

    @property
    def name(self) -> str:
        return f"{self.framework}/{self.server}/{self.kind}"

    @property
    def label(self) -> str:
        what = {
            "api": f"todo-api {self.framework}",
            "minimal": f"minimal {self.framework}",
            "raw": f"raw {FRONTENDS[self.framework].interface.upper()}",
        }[self.kind]
        return f"{what} · {self.server}"

    @property
    def app(self) -> str:
        """What the server loads: the frontend's app, a baseline, or (only when a test sets
        SLOWED_API_ENV) the frontend's app slowed on purpose."""
        if self.kind != "api":
            return BASELINES[(self.framework, self.kind)]
        if os.environ.get(SLOWED_API_ENV):
            return f"benchmarks.load.slowed:{self.framework}"
        return FRONTENDS[self.framework].app

    def command(self, port: int, workers: int) -> list[str]:
        """As `todo-api serve` runs it, the baselines too: the same server flags (threads,
        backpressure, timeouts, loop), only the app differs."""
        threads = Settings.from_env(os.environ).wsgi_threads
        interface = FRONTENDS[self.framework].interface
        return server_command(self.server, self.app, interface, "127.0.0.1", port, workers, threads)


def all_targets(frameworks: tuple[str, ...] = ("flask", "quart")) -> list[Target]:
    return [Target(f, s, k) for f in frameworks for s in FRONTENDS[f].servers for k in KINDS]


class Running:
    """A started server; stopping it ends the whole process group (workers included)."""

    def __init__(self, target: Target, port: int, workers: int, env: dict[str, str], log_path: str) -> None:
        self.target, self.port = target, port
        self.log = open(log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            target.command(port, workers),
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @classmethod
    def start(
        cls, target: Target, workers: int, env: dict[str, str], workdir: Path, tag: str = ""
    ) -> Running:
        """Start `target` on a free port, its log in `workdir`, and wait until it answers."""
        log = workdir / f"{target.name.replace('/', '-')}{'-' + tag if tag else ''}.log"
        if target.kind == "api":  # the workers' shared metrics, as `todo-api serve` gives them
            env = {**env, MULTIPROCESS_DIRECTORY: tempfile.mkdtemp(prefix="metrics-", dir=workdir)}
        server = cls(target, free_port(), workers, env, str(log))
        try:
            server.wait_ready()
        except Exception:
            server.stop()
            raise
        return server

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.target.name} exited early; see {self.log.name}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.target.name} not ready after {timeout}s; see {self.log.name}")

    def stop(self) -> None:
        """SIGTERM to the whole group, SIGKILL after 20 s; nothing to do for a group gone."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.log.close()


def scrape_metrics(port: int) -> str:
    """The text of a running API's `/metrics` (its workers' shared counters)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/metrics")
        return connection.getresponse().read().decode()
    finally:
        connection.close()
