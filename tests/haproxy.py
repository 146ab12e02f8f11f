"""HAProxy from Debian's packages in front of instances of a test's own, loading the
configuration the docs show (docs/recipes/haproxy.cfg): one file, not a copy."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.served import free_port
from tests.system_packages import require

RECIPE = Path(__file__).parents[1] / "docs" / "recipes" / "haproxy.cfg"
BINARIES = ["/usr/sbin/haproxy", "haproxy"]


class HAProxy:
    def __init__(self, one: int, two: int) -> None:
        binary = require(BINARIES, "haproxy")
        self.port = free_port()
        env = {**os.environ, "TODO_API_LISTEN": f"127.0.0.1:{self.port}",
               "TODO_API_ONE": f"127.0.0.1:{one}", "TODO_API_TWO": f"127.0.0.1:{two}"}
        self.process = subprocess.Popen([binary, "-db", "-f", str(RECIPE)], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.communicate()[0]
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("haproxy did not listen")

    def stop(self) -> str:
        """Its log (health check changes, retries)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.communicate()[0]
