"""The ASGI entry point production servers load: `hypercorn web_quart.asgi:app`."""

from todo_api.logs import configure_logging
from web_quart.app import create_app

configure_logging()
app = create_app()
