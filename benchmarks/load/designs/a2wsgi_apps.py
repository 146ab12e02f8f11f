"""The Flask API and the raw WSGI callable as ASGI apps (a2wsgi), for uvicorn: the event
loop reads each request and writes each answer; the WSGI app runs in a thread pool of
WSGI_THREADS threads."""

from __future__ import annotations

import os

from a2wsgi import WSGIMiddleware

from todo_api.config.settings import Settings

THREADS = Settings.from_env(os.environ).wsgi_threads


def _wrapped(module: str) -> WSGIMiddleware:
    import importlib

    return WSGIMiddleware(importlib.import_module(module).app, workers=THREADS)


def __getattr__(name: str) -> WSGIMiddleware:  # each app built when a worker imports it
    modules = {"api": "web_flask.wsgi", "raw": "benchmarks.load.baselines.raw_wsgi"}
    if name not in modules:
        raise AttributeError(name)
    app = _wrapped(modules[name])
    globals()[name] = app
    return app
