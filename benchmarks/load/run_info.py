"""What a run measured on: the machine, the versions, the settings, the servers' flags.

Written at the head of every results file, so that a number read later (or compared with
`--compare`) says what produced it.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import subprocess
import time
from typing import Any

import psycopg

from benchmarks.load import generators
from benchmarks.load.servers import Target
from todo_api.config.settings import Settings

PACKAGES = ("todo-api", "flask", "werkzeug", "quart", "granian", "uvicorn", "uvloop", "httptools",
            "psycopg", "psycopg-pool", "psycopg-binary", "pyjwt", "orjson")


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit() -> str | None:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+changes" if dirty else "")


def postgres_version(conninfo: str) -> str:
    with psycopg.connect(conninfo) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def describe(args: argparse.Namespace, conninfo: str, targets: list[Target]) -> dict[str, Any]:
    settings = Settings.from_env(os.environ)
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": git_commit(),
        "machine": {
            "architecture": platform.machine(),
            "cores": os.cpu_count(),
            "system": platform.platform(),
            "python": platform.python_version(),
            "load_average": [round(value, 2) for value in os.getloadavg()],
        },
        "versions": {**package_versions(), "postgresql": postgres_version(conninfo)},
        "settings": {
            "short": args.short,
            "users": args.users,
            "tasks_per_user": args.tasks_per_user,
            "big_user_tasks": args.big_user_tasks,
            "connections": args.connections,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "workers": args.workers,
            "wsgi_threads": settings.wsgi_threads,
            "db_pool_max_size": settings.db_pool_max_size,
            "generator": "wrk" if generators.have_wrk() else "built-in",
            "latencies_ms": args.latencies,
        },
        "servers": {target.name: target.command(0, args.workers) for target in targets},
    }


def sentence(run: dict[str, Any]) -> str:
    """The run described in one sentence, for the head of each table."""
    settings, machine = run["settings"], run["machine"]
    generator = "wrk" if settings["generator"] == "wrk" else "the built-in generator"
    return (
        f"{settings['users']} users x {settings['tasks_per_user']} tasks + {settings['big_user_tasks']} "
        f"for one user; {settings['workers']} workers per server ({settings['wsgi_threads']} threads per "
        f"WSGI worker, a pool of {settings['db_pool_max_size']}), {settings['connections']} connections, "
        f"{settings['seconds']:g} s per cell, {generator}; {machine['architecture']}, {machine['cores']} "
        f"cores, Python {machine['python']}, PostgreSQL {run['versions']['postgresql']}; "
        f"{run['date'][:10]}, commit {(run['commit'] or 'unknown')[:12]}."
    )
