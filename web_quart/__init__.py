"""The async (ASGI) frontend: Quart glue between HTTP and the core."""

from web_quart.app import create_app, init_app

__all__ = ["create_app", "init_app"]
