"""Logging for server processes: one line per record on stderr, JSON for a log pipeline
or text for a terminal (LOG_FORMAT; by default text only when stderr is a terminal).

Every line the API logs carries the request id (and the W3C trace id, "-" or null when
none) of the request that caused it: `core.tracing`'s filter sits on the "todo_api"
loggers, put there when an API is built (`attach_request_ids`), so in-process apps get
it too. Each request ends with one line on "todo_api.access" (ACCESS_LOG_ENABLED=false: none),
whose fields come from the core's `Exchange`.

A line per request must cost little (docs/operating.md: under 5% of throughput). In a
server process that logs JSON (`configure_logging`), an access line is therefore written
straight to stderr, one `write` per line, the same object a `JsonFormatter` would make
of the record but without building one; elsewhere (an app embedded in a host, a
terminal) it goes through the logger, to whatever handlers the host set.
"""

from __future__ import annotations

import collections
import logging
import os
import select
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from core.tracing import Exchange, RequestIdFilter
from todo_api.config.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(trace_id)s]: %(message)s"
BATCH_SECONDS = 0.1
"""How late an access line may reach stderr (a worker killed outright loses as much)."""
ACCESS_LOGGER = "todo_api.access"
access_log = logging.getLogger(ACCESS_LOGGER)


def attach_request_ids() -> None:
    """A logger's filters see only its own records, not its children's: both get one."""
    for logger in (logging.getLogger("todo_api"), access_log):
        if not any(isinstance(each, RequestIdFilter) for each in logger.filters):
            logger.addFilter(RequestIdFilter())


class UtcClock:
    """ISO 8601 times with milliseconds; the seconds' text is made once per second (kept
    with its second in one tuple, so threads never see one without the other)."""

    def __init__(self) -> None:
        self._second: tuple[int, str] = (-1, "")

    def text(self, created: float) -> str:
        second = int(created)
        cached, text = self._second
        if second != cached:
            text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (second, text)
        return f"{text}.{int((created - second) * 1000):03d}Z"


def json_line(value: object) -> bytes:
    """A JSON value and a newline. Control characters are escaped by JSON itself; the
    line and paragraph separators too, which some log viewers would start a line at."""
    line = orjson.dumps(value)
    if b"\xe2\x80\xa8" in line or b"\xe2\x80\xa9" in line:
        line = line.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
    return line + b"\n"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, process id, message, request
    and trace ids, an access line's fields, and a traceback when there is one."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = UtcClock()

    def format(self, record: logging.LogRecord) -> str:
        trace_id = getattr(record, "trace_id", "-")
        exchange: Exchange | None = getattr(record, "exchange", None)  # an access line's
        entry: dict[str, Any] = {
            "time": self.clock.text(record.created),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": exchange.access_summary() if exchange else record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "trace_id": None if trace_id == "-" else trace_id,
        }
        if exchange is not None:
            entry.update(exchange.access_fields())
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json_line(entry)[:-1].decode()


def json_text(value: str | None) -> str:
    """A JSON string (or null) for a value the client chose."""
    return "null" if value is None else json_line(value)[:-1].decode()


class DirectAccessLines:
    """Access lines as JSON straight to a file descriptor (stderr), in batches.

    A request only queues its exchange and the time (two appends to a deque); a thread
    of the process turns the queue into lines every BATCH_SECONDS and once more after the
    main thread has ended (at exit: see `_write_until_the_main_thread_ends`), which
    costs half as much done three hundred at a time as one per request, and writes them
    in writes of whole lines up to PIPE_BUF, which no other process's line can cut into.

    A line is one f-string, not a dictionary encoded: every value but the user id is the
    API's own and needs no escaping (a method label, a route template, numbers, a request
    id of safe characters, a trace id in hex); the user id is encoded as JSON."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor
        self.clock = UtcClock()
        self.pending: collections.deque[tuple[float, Exchange]] = collections.deque()
        self._writing_in: int | None = None
        self._flushing = threading.Lock()  # the writer, and a caller of flush()

    def write(self, exchange: Exchange) -> None:
        self.pending.append((time.time(), exchange))
        if self._writing_in != os.getpid():  # this process (a forked worker too) has no writer yet
            self._start_writer()

    def line(self, ended: float, exchange: Exchange, pid: int) -> bytes:
        route = "null" if exchange.route is None else f'"{exchange.route}"'
        trace_id = "null" if exchange.trace_id is None else f'"{exchange.trace_id}"'
        return (
            f'{{"time":"{self.clock.text(ended)}","level":"INFO","logger":"{ACCESS_LOGGER}",'
            f'"pid":{pid},"message":"{exchange.access_summary()}",'
            f'"request_id":"{exchange.request_id}","trace_id":{trace_id},"method":"{exchange.method}",'
            f'"route":{route},"status":{exchange.status},"duration_ms":{exchange.duration * 1000:.3f},'
            f'"bytes":{exchange.response_bytes},"user_id":{json_text(exchange.user_id)}}}\n'
        ).encode()

    def _start_writer(self) -> None:
        self._writing_in = os.getpid()
        # daemon=False said, not inherited: a server's request threads are daemons
        threading.Thread(target=self._write_until_the_main_thread_ends, name="todo-api-access-log",
                         daemon=False).start()

    def _write_until_the_main_thread_ends(self) -> None:
        """Not a daemon: the interpreter waits for it at exit, so the last requests' lines
        are written. atexit would not do: a server's worker forked by multiprocessing
        (granian's) ends with os._exit, which runs no atexit handler, but it joins the
        threads that are not daemons first."""
        main = threading.main_thread()
        while main.is_alive():
            main.join(BATCH_SECONDS)  # wakes at once when the main thread ends
            self.flush()
        self.flush()

    def flush(self) -> None:
        """Write what is queued, in writes of whole lines of at most PIPE_BUF bytes."""
        with self._flushing:
            pid = os.getpid()
            batch: list[bytes] = []
            size = 0
            while self.pending:
                line = self.line(*self.pending.popleft(), pid)
                if size + len(line) > select.PIPE_BUF and batch:
                    os.write(self.descriptor, b"".join(batch))
                    batch, size = [], 0
                batch.append(line)
                size += len(line)
            if batch:
                os.write(self.descriptor, b"".join(batch))


direct_access_lines: DirectAccessLines | None = None
"""Set by `configure_logging` when this process logs JSON to stderr."""


class AccessLine:
    """The message of an access record, made only when a handler formats it."""

    __slots__ = ("exchange",)

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def __str__(self) -> str:
        return self.exchange.access_line()


def log_access(exchange: Exchange) -> None:
    """The request's access line (at INFO: LOG_LEVEL=WARNING silences it too)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    if direct_access_lines is not None:
        direct_access_lines.write(exchange)
    else:
        access_log.info(AccessLine(exchange), extra={"exchange": exchange})


def log_format(settings: Settings) -> str:
    return settings.log_format or ("text" if sys.stderr.isatty() else "json")


def configure_logging(settings: Settings) -> None:
    global direct_access_lines
    attach_request_ids()
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())  # other loggers' records (servers, libraries) too
    as_json = log_format(settings) == "json"
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=settings.log_level, handlers=[handler])
    direct_access_lines = DirectAccessLines(sys.stderr.fileno()) if as_json else None
