"""uvicorn as `todo-api serve` runs it: `python -m todo_api.serve.uvicorn_bounded [flags] app`.

Through uvicorn's public settings only. Each worker is a uvicorn process of its own,
given its listening socket as `fd` and the protocol that bounds request heads as `http`
(todo_api.serve.bounded_head). The sockets are made here, one per worker, all bound to the
port with SO_REUSEPORT, so the kernel deals new connections out evenly: workers that
accept from one shared socket (uvicorn's `--workers`) split 32 connections 28/4 or 32/0,
as the busiest one wins each accept. Made here, they also carry WRITE_TIMEOUT_SECONDS to every
connection, and nothing else can be listening on the port (todo_api.serve.listening).

This process starts the workers, starts again one that dies, and passes a stop on to
each of them once.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import socket
import subprocess
import sys
import time
from types import FrameType

import uvicorn

from todo_api.config.settings import ConfigError
from todo_api.serve.bounded_head import BoundedHeadProtocol
from todo_api.serve.listening import listening_socket, refuse_if_in_use
from todo_api.serve.servers import LISTEN_BACKLOG, die_with_parent
from todo_api.serve.write_timeout import write_timeout_seconds

RESTART_PAUSE_SECONDS = 1.0
"""A worker that died is started again after this pause (no busy loop when it cannot start)."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m todo_api.serve.uvicorn_bounded")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout-graceful-shutdown", type=int, default=10)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--fd", type=int, help="run one worker on this listening socket")
    parser.add_argument("app", help="module:attribute")
    return parser.parse_args(argv)


def run_worker(app: str, fd: int, grace: int, reload: bool = False) -> None:
    uvicorn.run(app, fd=fd, http=BoundedHeadProtocol, timeout_graceful_shutdown=grace, access_log=False,
                backlog=LISTEN_BACKLOG, reload=reload)


class Workers:
    """One uvicorn process per listening socket; each stopped by one signal."""

    def __init__(self, args: argparse.Namespace, sockets: list[socket.socket]) -> None:
        self.args, self.sockets = args, sockets
        self.processes = [self.start(sock) for sock in sockets]
        self.stopping = False

    def start(self, sock: socket.socket) -> subprocess.Popen[bytes]:
        fd = sock.fileno()
        return subprocess.Popen(
            [sys.executable, "-m", "todo_api.serve.uvicorn_bounded", "--fd", str(fd),
             "--timeout-graceful-shutdown", str(self.args.timeout_graceful_shutdown), self.args.app],
            pass_fds=[fd], preexec_fn=die_with_parent)

    def stop(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            return
        self.stopping = True
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for sock in self.sockets:  # the workers' copies close as they stop: then new connections are refused
            sock.close()

    def run(self) -> int:
        while True:
            running = [process for process in self.processes if process.poll() is None]
            if self.stopping and not running:
                return 0
            for number, process in enumerate(self.processes):
                if process.returncode is not None and not self.stopping:
                    print(f"todo-api: uvicorn worker {process.pid} exited ({process.returncode}); "
                          "starting it again", file=sys.stderr, flush=True)
                    time.sleep(RESTART_PAUSE_SECONDS)
                    if not self.stopping:
                        self.processes[number] = self.start(self.sockets[number])
            time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    grace = args.timeout_graceful_shutdown
    if args.fd is not None:
        run_worker(args.app, args.fd, grace)
        return 0
    try:
        refuse_if_in_use(args.host, args.port)
        sockets = [listening_socket(args.host, args.port, LISTEN_BACKLOG, write_timeout_seconds(),
                                    reuse_port=True) for _ in range(args.workers)]
    except ConfigError as error:
        print(f"todo-api: {error}", file=sys.stderr)
        return 2
    if args.reload:  # development: one process, which uvicorn restarts on changes
        run_worker(args.app, sockets[0].fileno(), grace, reload=True)
        return 0
    workers = Workers(args, sockets)
    signal.signal(signal.SIGTERM, workers.stop)
    signal.signal(signal.SIGINT, workers.stop)
    return workers.run()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
