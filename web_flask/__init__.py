"""The sync (WSGI) frontend: Flask glue between HTTP and the core."""

from web_flask.app import create_app, init_app

__all__ = ["create_app", "init_app"]
