"""Logging for server processes: one line per record on stderr; DEBUG=true for more.

Every line the API logs carries the request id (and the W3C trace id, "-" when none) of
the request that caused it: `core.tracing`'s filter sits on the "todo_api" logger, put
there when an API is built (`attach_request_ids`), so in-process apps get it too.
"""

from __future__ import annotations

import logging

from core.tracing import RequestIdFilter
from todo_api.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(trace_id)s]: %(message)s"


def attach_request_ids() -> None:
    logger = logging.getLogger("todo_api")
    if not any(isinstance(each, RequestIdFilter) for each in logger.filters):
        logger.addFilter(RequestIdFilter())


def configure_logging(settings: Settings) -> None:
    attach_request_ids()
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())  # other loggers' records (servers, libraries) too
    handler.setFormatter(logging.Formatter(FORMAT))
    logging.basicConfig(level=logging.DEBUG if settings.debug else logging.INFO, handlers=[handler])
