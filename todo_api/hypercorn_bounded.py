"""hypercorn with WRITE_TIMEOUT and a stop that lets every worker finish:
`python -m todo_api.hypercorn_bounded [hypercorn flags] app`.

hypercorn makes its listening sockets in the main process (`Config.create_sockets`) and
hands them to its workers; this entry point runs hypercorn's own command line with a
configuration that sets the kernel's write timeout on them (see todo_api.write_timeout).

On SIGTERM, hypercorn 0.17's main process tells its workers to stop (an event they
poll), but as soon as the first has finished its requests it terminates the others, in
the middle of theirs, and a worker dies at once on a SIGTERM of its own (`serve` signals
the whole process group). Here workers ignore SIGTERM and the main process waits for
them, up to `--graceful-timeout`.
"""

from __future__ import annotations

import functools
import importlib
import signal
import sys
import time
from multiprocessing.process import BaseProcess
from typing import Any

import hypercorn.__main__
import hypercorn.asyncio.run
import hypercorn.run
from hypercorn.config import Config, Sockets

from todo_api.write_timeout import set_write_timeout, write_timeout_seconds


class WriteTimeoutConfig(Config):
    def create_sockets(self) -> Sockets:
        sockets = super().create_sockets()
        seconds = write_timeout_seconds()
        for sock in sockets.secure_sockets + sockets.insecure_sockets:
            set_write_timeout(sock, seconds)
        return sockets


JOIN_EXITED = hypercorn.run._join_exited
UVLOOP_WORKER = hypercorn.asyncio.run.uvloop_worker


def join_exited_once_all_stopped(grace: float, processes: list[BaseProcess]) -> int:
    """hypercorn's bookkeeping of exited workers, but once one has stopped cleanly (exit
    0: only a stop does that), the others are given the rest of the grace period first."""
    if any(process.exitcode == 0 for process in processes):
        deadline = time.monotonic() + grace
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
    return JOIN_EXITED(processes)


def uvloop_worker_deaf_to_sigterm(config: Config, sockets: Sockets | None = None,
                                   shutdown_event: Any = None) -> None:
    """hypercorn's worker, stopped only by its main process's event (which lets it finish)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    UVLOOP_WORKER(config, sockets, shutdown_event)


def run_letting_workers_finish(config: Config) -> int:
    # by its importable name: a spawned worker finds its function by module and name
    this = importlib.import_module("todo_api.hypercorn_bounded")
    hypercorn.asyncio.run.uvloop_worker = this.uvloop_worker_deaf_to_sigterm
    hypercorn.run._join_exited = functools.partial(join_exited_once_all_stopped, config.graceful_timeout)
    return hypercorn.run.run(config)


def main() -> int:
    hypercorn.__main__.Config = WriteTimeoutConfig  # type: ignore[attr-defined]
    hypercorn.__main__.run = run_letting_workers_finish  # type: ignore[attr-defined]
    return hypercorn.__main__.main()


if __name__ == "__main__":
    sys.exit(main())
