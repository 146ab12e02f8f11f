"""A real PgBouncer in transaction mode, in front of the test PostgreSQL (a pytest plugin).

Transaction mode is what Neon's pooled endpoint, Supabase and most managed poolers run:
each statement outside a transaction may go to a different server connection. The
pool is kept small (2 server connections) so that multiplexing happens at once.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.system_packages import require, unprivileged_user

SERVER_CONNECTIONS = 2

CONFIG = """\
[databases]
* = host={host} port={port} user={user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = trust
auth_file = {auth_file}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits
pidfile = {directory}/pgbouncer.pid
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # type: ignore[no-any-return]


class PgBouncer:
    """`url(database_url)` is the same database reached through the pooler."""

    def __init__(self, server_url: str, directory: Path, pool_size: int = SERVER_CONNECTIONS) -> None:
        binary = require(["/usr/sbin/pgbouncer", "pgbouncer"], "pgbouncer")
        upstream = conninfo_to_dict(server_url)
        self.port = free_port()
        self.user = str(upstream.get("user") or "postgres")
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o777)  # PgBouncer refuses to run as root: it runs as another user
        auth_file = directory / "userlist.txt"
        auth_file.write_text(f'"{self.user}" ""\n')
        config = directory / "pgbouncer.ini"
        config.write_text(CONFIG.format(
            host=upstream.get("host") or "127.0.0.1", port=upstream.get("port") or 5432, user=self.user,
            listen_port=self.port, auth_file=auth_file, pool_size=pool_size, directory=directory,
        ))
        for path in (auth_file, config):
            path.chmod(0o644)
        run_as = unprivileged_user()
        command = [binary] + (["-u", run_as] if run_as else []) + [str(config)]
        self.log = directory / "pgbouncer.log"
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_ready()

    def url(self, database_url: str) -> str:
        dbname = conninfo_to_dict(database_url)["dbname"]
        return make_conninfo(host="127.0.0.1", port=self.port, user=self.user, dbname=dbname)

    def _wait_until_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("pgbouncer exited:\n" + self.log.read_text())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("pgbouncer did not start:\n" + self.log.read_text())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def pgbouncer(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgBouncer]:
    pooler = PgBouncer(server_url, tmp_path_factory.mktemp("pgbouncer"))
    yield pooler
    pooler.stop()


@pytest.fixture(scope="session")
def pooled_database_url(pgbouncer: PgBouncer, database_url: str) -> str:
    """The suite's database through PgBouncer in transaction mode."""
    url = pgbouncer.url(database_url)
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        conn.execute("SELECT 1")
    return url


def server_pids(url: str, statements: int = 20) -> set[int]:
    """The server processes a run of autocommit statements on one client connection reached."""
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        return {conn.execute("SELECT pg_backend_pid()").fetchone()[0] for _ in range(statements)}  # type: ignore[index]

