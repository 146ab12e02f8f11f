"""The `todo-api` command: serve, migrate, token."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from types import FrameType

from storage.migrate import migrate
from todo_api import devmode
from todo_api.settings import ConfigError, Settings, load_settings

SERVERS = {
    "flask": ["gunicorn", "web_flask.wsgi:app"],
    "quart": ["hypercorn", "web_quart.asgi:app"],
}


def server_command(frontend: str, host: str, port: int, workers: int, reload: bool) -> list[str]:
    server, target = SERVERS[frontend]
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    command = [sys.executable, "-m", server, "--workers", str(workers), "--bind", bind]
    if reload:
        command.append("--reload")
    if server == "gunicorn":
        command += ["--access-logfile", "-", "--no-control-socket"]
    else:
        command += ["--access-logfile", "-", "--error-logfile", "-"]
    return command + [target]


def curl_hint(settings: Settings, host: str, port: int) -> str:
    token = devmode.make_token(settings.require_secret(), devmode.DEV_USER, 24 * 3600)
    return (
        f"curl -H 'Authorization: Bearer {token}' "
        f"http://{host}:{port}/api/{devmode.DEV_USER}/tasks"
    )


def serve(args: argparse.Namespace, settings: Settings) -> int:
    settings, database, generated_secret = devmode.resolve(settings)
    host = args.host or settings.api_host
    port = args.port or settings.api_port
    try:
        applied = migrate(settings.require_database_url())
        if applied:
            print(f"todo-api: applied migrations {', '.join(applied)}", flush=True)
        if database is not None:
            print(f"todo-api: embedded PostgreSQL, data in {database.pgdata}", flush=True)
        if generated_secret:
            print("todo-api: development secret in use; try:", flush=True)
            print(curl_hint(settings, host, port), flush=True)
        env = {
            **os.environ,
            "DATABASE_URL": settings.require_database_url(),
            "MIGRATE_ON_START": "false",  # done above, once
        }
        if settings.better_auth_secret:
            env["BETTER_AUTH_SECRET"] = settings.better_auth_secret
        command = server_command(args.frontend, host, port, args.workers, args.reload)
        server = subprocess.Popen(command, env=env)

        def forward(signum: int, frame: FrameType | None) -> None:
            server.send_signal(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        return server.wait()
    finally:
        if database is not None:
            database.stop()


def run_migrate(args: argparse.Namespace, settings: Settings) -> int:
    settings, database, _ = devmode.resolve(settings)
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


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="todo-api", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="run the API under a production server")
    serve_cmd.add_argument("--frontend", choices=sorted(SERVERS), default="flask")
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
