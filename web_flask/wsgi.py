"""The WSGI entry point production servers load: `granian --interface wsgi web_flask.wsgi:app`."""

from todo_api.logs import configure_logging
from web_flask.app import create_app

configure_logging()
app = create_app()
