"""The `todo-api` command: serve, migrate, token, openapi, settings."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from storage.capacity import connections_available
from storage.fanout import STOP_FILE
from storage.migrate import migrate
from todo_api.config.settings import ConfigError, Settings, load_settings
from todo_api.observe.metrics import MULTIPROCESS_DIRECTORY
from todo_api.serve import devmode
from todo_api.serve.frontends import FRONTENDS
from todo_api.serve.listening import refuse_if_in_use
from todo_api.serve.servers import ENFORCES_WRITE_TIMEOUT, die_with_parent, server_command


def curl_hint(settings: Settings, host: str, port: int) -> str:
    token = devmode.make_token(settings.require_secret(), devmode.DEV_USER, 24 * 3600)
    return (
        f"curl -H 'Authorization: Bearer {token}' "
        f"http://{host}:{port}/api/{devmode.DEV_USER}/tasks"
    )


KILL_MARGIN_SECONDS = 3.0
"""Past the grace period, the server's own kill of a stuck worker has had this long."""


def supervise(server: subprocess.Popen[bytes], grace: float, stop_file: Path, drain: float = 0.0) -> int:
    """Wait for the server; on the first SIGTERM/SIGINT, drain, then pass the stop on to its main
    process, and kill the whole server if it has not stopped `grace` seconds
    (SHUTDOWN_GRACE_SECONDS) plus a margin later.

    Creating `stop_file` at once starts the drain: the workers' `/ready` answers 503 and every
    answer closes its connection (todo_api.glue.stopping), and their event streams end
    (storage.fanout), which would otherwise hold the stop for the whole grace. `drain` seconds
    (SHUTDOWN_DRAIN_SECONDS) later the server stops accepting: a load balancer checking
    `/ready` has sent its requests elsewhere by then.

    The main process stops its workers at once, one signal each (granian's, and ours for
    uvicorn: todo_api.serve.uvicorn_bounded). A worker is never signalled by us as well, and only
    the first stop is passed on (`uv run`, a terminal or `kill -- -PGID` often deliver one
    twice): a granian WSGI worker that got a second SIGTERM while it handled the first
    deadlocked. The server runs in a session of its own, so a signal to our process group
    does not reach its workers either, and a server stuck in shutdown is killed whole and
    cannot outlive us.
    """
    stop: list[tuple[int, float]] = []  # the signal, and when to pass it on

    def begin_stopping(signum: int, frame: FrameType | None) -> None:
        if stop:
            return  # stopping already: the deadline bounds it
        stop_file.touch()
        stop.append((signum, time.monotonic() + drain))

    signal.signal(signal.SIGTERM, begin_stopping)
    signal.signal(signal.SIGINT, begin_stopping)
    passed_on = killed = False
    while server.poll() is None:
        if stop and not passed_on and time.monotonic() >= stop[0][1]:
            passed_on = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(server.pid, stop[0][0])
        if stop and time.monotonic() > stop[0][1] + grace + KILL_MARGIN_SECONDS and not killed:
            print("todo-api: the server did not stop in time; killing it", file=sys.stderr, flush=True)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            killed = True
        time.sleep(0.05 if stop and not passed_on else 0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)  # any worker the server left behind
    stopped_on_request = stop and (killed or server.returncode in (-signal.SIGTERM, -signal.SIGINT))
    return 0 if stopped_on_request else server.returncode  # uvicorn re-raises the stop signal


def print_sizing(args: argparse.Namespace, server_name: str, settings: Settings) -> None:
    """What this deployment will open, and a warning when PostgreSQL cannot accept that many."""
    threads = f" x {settings.wsgi_threads} threads" if FRONTENDS[args.frontend].interface == "wsgi" else ""
    planned = args.workers * settings.db_pool_max_size
    print(f"todo-api: {args.frontend} under {server_name}, {args.workers} worker(s){threads}, "
          f"up to {planned} database connections", flush=True)
    available = connections_available(settings.require_database_url())
    if available is not None and planned > available:
        print(f"todo-api: warning: PostgreSQL accepts {available} connections, fewer than the {planned} "
              f"this may open (--workers x DB_POOL_MAX_SIZE); requests past them will answer 503. "
              f"Lower DB_POOL_MAX_SIZE, or connect through a pooler", file=sys.stderr, flush=True)


def serve(args: argparse.Namespace, settings: Settings) -> int:
    frontend = FRONTENDS[args.frontend]
    server_name = args.server or frontend.default_server
    if server_name not in frontend.servers:
        raise ConfigError(
            f"--server {server_name} cannot serve the {frontend.name} frontend; "
            f"choose one of {', '.join(frontend.servers)}"
        )
    host = args.host or settings.api_host
    port = args.port or settings.api_port
    refuse_if_in_use(host, port)  # before anything starts: one clear line
    settings, database, generated_secret = devmode.resolve(settings)
    metrics_directory = None
    run_directory = Path(tempfile.mkdtemp(prefix="todo-api-run-"))
    stop_file = run_directory / "stopping"
    try:
        applied = migrate(settings.require_database_url())
        if applied:
            print(f"todo-api: applied migrations {', '.join(applied)}", flush=True)
        if database is not None:
            print(f"todo-api: embedded PostgreSQL, data in {database.pgdata}", flush=True)
        print_sizing(args, server_name, settings)
        if not ENFORCES_WRITE_TIMEOUT[server_name]:
            print(f"todo-api: {server_name} enforces no WRITE_TIMEOUT_SECONDS: behind a proxy with a send "
                  "timeout, a client that stops reading is dropped (docs/operating.md)", flush=True)
        if generated_secret:
            print("todo-api: development secret in use; try:", flush=True)
            print(curl_hint(settings, host, port), flush=True)
        env = {
            **os.environ,
            "DATABASE_URL": settings.require_database_url(),
            "MIGRATE_ON_START": "false",  # done above, once
            STOP_FILE: str(stop_file),
        }
        if settings.better_auth_secret:
            env["BETTER_AUTH_SECRET"] = settings.better_auth_secret
        if settings.metrics_enabled and MULTIPROCESS_DIRECTORY not in env:
            # every worker adds its counts to files here; a scrape answered by any of them sums them
            metrics_directory = tempfile.mkdtemp(prefix="todo-api-metrics-")
            env[MULTIPROCESS_DIRECTORY] = metrics_directory
        # A WSGI worker serves one request per thread, and a request holds at most one
        # connection: at least as many threads as pooled connections keeps every connection
        # busy while each waits a network round trip; the spare ones (WSGI_THREADS) absorb
        # clients that send their bodies slowly.
        command = server_command(
            server_name, frontend.app, frontend.interface, host, port, args.workers,
            threads=settings.wsgi_threads, reload=args.reload, grace=settings.shutdown_grace_seconds,
        )
        server = subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=die_with_parent)
        return supervise(server, settings.shutdown_grace_seconds, stop_file, settings.shutdown_drain_seconds)
    finally:
        shutil.rmtree(run_directory, ignore_errors=True)
        if database is not None:
            database.stop()
        if metrics_directory is not None:
            shutil.rmtree(metrics_directory, ignore_errors=True)


def run_migrate(args: argparse.Namespace, settings: Settings) -> int:
    settings, database, _ = devmode.resolve(settings, verifies_tokens=False)
    try:
        applied = migrate(settings.require_database_url())
    finally:
        if database is not None:
            database.stop()
    print("applied: " + (", ".join(applied) if applied else "nothing, the schema is current"))
    return 0


def token(args: argparse.Namespace, settings: Settings) -> int:
    secret = settings.better_auth_secret
    if secret is None:
        if settings.database_url:
            settings.require_secret()
        secret = devmode.dev_secret(settings.data_dir)
    print(devmode.make_token(secret, args.user_id, args.ttl))
    return 0


def openapi(args: argparse.Namespace, settings: Settings) -> int:
    """The document as `GET /openapi.json` answers it at the root (the committed copy)."""
    from core.api import ROUTES
    from core.docs import document_bytes
    from core.openapi import openapi_document

    sys.stdout.buffer.write(document_bytes(openapi_document(ROUTES)))
    return 0


def settings_table(args: argparse.Namespace, settings: Settings) -> int:
    """Every setting as docs/configuration.md lists it (a test keeps the two the same)."""
    from core.settings_table import markdown_table

    print(markdown_table(), end="")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="todo-api", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="run the API under a production server")
    serve_cmd.add_argument("--frontend", choices=sorted(FRONTENDS), default="flask")
    serve_cmd.add_argument(
        "--server",
        choices=sorted({name for frontend in FRONTENDS.values() for name in frontend.servers}),
        help="default: " + ", ".join(f"{f.name}: {f.default_server}" for f in FRONTENDS.values()),
    )
    serve_cmd.add_argument("--host", help="default: API_HOST or 127.0.0.1")
    serve_cmd.add_argument("--port", type=int, help="default: API_PORT or 8000")
    serve_cmd.add_argument("--workers", type=int, default=1)
    serve_cmd.add_argument("--reload", action="store_true", help="restart on code changes")
    serve_cmd.set_defaults(run=serve)

    migrate_cmd = commands.add_parser("migrate", help="apply pending database migrations")
    migrate_cmd.set_defaults(run=run_migrate)

    token_cmd = commands.add_parser("token", help="print a token signed with the configured secret")
    token_cmd.add_argument("user_id")
    token_cmd.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    token_cmd.set_defaults(run=token)

    openapi_cmd = commands.add_parser("openapi", help="print the OpenAPI document /openapi.json answers")
    openapi_cmd.set_defaults(run=openapi)

    settings_cmd = commands.add_parser("settings", help="print every setting: name, type, default, meaning")
    settings_cmd.set_defaults(run=settings_table)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args, load_settings()))
    except ConfigError as error:
        print(f"todo-api: configuration error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
