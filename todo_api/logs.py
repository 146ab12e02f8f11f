"""Logging for server processes: one line per record on stderr, JSON for a log pipeline
or text for a terminal (LOG_FORMAT; by default text only when stderr is a terminal).

Every line the API logs carries the request id (and the W3C trace id, "-" or null when
none) of the request that caused it: `core.tracing`'s filter sits on the "todo_api"
logger, put there when an API is built (`attach_request_ids`), so in-process apps get it
too. Each request ends with one line on "todo_api.access" (ACCESS_LOG=false: none),
whose fields come from the core's `Exchange`.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from core.tracing import Exchange, RequestIdFilter
from todo_api.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(trace_id)s]: %(message)s"
access_log = logging.getLogger("todo_api.access")


def attach_request_ids() -> None:
    """A logger's filters see only its own records, not its children's: both get one."""
    for logger in (logging.getLogger("todo_api"), access_log):
        if not any(isinstance(each, RequestIdFilter) for each in logger.filters):
            logger.addFilter(RequestIdFilter())


def log_access(exchange: Exchange) -> None:
    """The request's access line (at INFO: LOG_LEVEL=WARNING silences it too)."""
    if access_log.isEnabledFor(logging.INFO):
        access_log.info("%s", exchange.access_line(), extra={"access": exchange.access_fields()})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, process id, message, request
    and trace ids, an access line's fields, and a traceback when there is one. JSON escapes every
    control character, so no value can start a line of its own."""

    def format(self, record: logging.LogRecord) -> str:
        trace_id = getattr(record, "trace_id", "-")
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "trace_id": None if trace_id == "-" else trace_id,
        }
        entry.update(getattr(record, "access", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def log_format(settings: Settings) -> str:
    return settings.log_format or ("text" if sys.stderr.isatty() else "json")


def configure_logging(settings: Settings) -> None:
    attach_request_ids()
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())  # other loggers' records (servers, libraries) too
    as_json = log_format(settings) == "json"
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(TEXT_FORMAT))
    level = "DEBUG" if settings.debug else settings.log_level
    logging.basicConfig(level=level, handlers=[handler])
