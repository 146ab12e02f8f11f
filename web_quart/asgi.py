"""The ASGI entry point production servers load: `uvicorn web_quart.asgi:app`."""

from todo_api.config.settings import load_settings
from todo_api.observe.logs import configure_logging
from web_quart.app import create_app

settings = load_settings()  # the environment over `.env`
configure_logging(settings)
app = create_app(settings)
