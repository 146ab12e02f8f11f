"""The core's answer to an exception a framework raised while handling an API request:
the same JSON on both frontends, and one traceback logged for anything unexpected."""

from __future__ import annotations

import logging

from werkzeug.exceptions import HTTPException

from core.api import Api
from core.http import Request, Response
from core.tracing import Exchange

log = logging.getLogger("todo_api")


def failure_response(api: Api, request: Request, exchange: Exchange, error: Exception,
                     *, frontend: str) -> Response:
    """An HTTPException's status and description (413, 408, a malformed request), or a 500
    whose traceback is logged. Call it from the `except` block that caught `error`."""
    if isinstance(error, HTTPException):
        return api.error(request, error.code or 400, error.description or error.name, exchange)
    response = api.error(request, 500, "Internal Server Error", exchange)  # first: the log line gets its id
    log.exception("unexpected error in the %s frontend", frontend)
    return response
