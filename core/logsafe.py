"""Logging what clients control without letting them write the log.

A path like `/x%0A2026-01-01 ERROR forged` would otherwise start a line of its own, and
an error that a client can trigger at will would print a traceback per request. Every
client-controlled value is logged through `quoted`, and tracebacks pass through a
`TracebackBudget`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import attrs

LOGGED_TEXT_LIMIT = 300

ESCAPES = {
    **{code: f"\\x{code:02x}" for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)]},
    0x2028: "\\u2028",  # line and paragraph separators: new lines to some log viewers
    0x2029: "\\u2029",
    ord("\\"): "\\\\",
    ord('"'): '\\"',
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}


def quoted(text: str) -> str:
    """`text` in double quotes on one line: no control character, no unescaped quote, and
    at most LOGGED_TEXT_LIMIT characters, so it can neither end the line nor the field."""
    shown = text[:LOGGED_TEXT_LIMIT].translate(ESCAPES)
    cut = len(text) - LOGGED_TEXT_LIMIT
    return f'"{shown}"' + (f" (+{cut} characters)" if cut > 0 else "")


@attrs.frozen(slots=True)
class LogVerdict:
    """How to log one unexpected error: with its traceback, as one counting line, or not."""

    traceback: bool
    line: bool
    seen: int
    """Errors of this kind in the current window, this one included."""


class TracebackBudget:
    """At most `per_window` tracebacks of each kind per `window` seconds.

    A kind is where an error was raised (type, file, line). Past the budget, one line is
    logged at the 10th, 100th, 1000th... error of the window: a client repeating the same
    failing request thousands of times a second costs the log a handful of lines.
    """

    def __init__(
        self, per_window: int = 5, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_window = per_window
        self.window = window
        self.clock = clock
        self._windows: dict[tuple[str, str, int], tuple[float, int]] = {}
        self._lock = threading.Lock()  # a WSGI worker's threads share one budget

    def verdict(self, error: BaseException) -> LogVerdict:
        kind = error_kind(error)
        now = self.clock()
        with self._lock:
            started, seen = self._windows.pop(kind, (now, 0))
            if now - started >= self.window:
                started, seen = now, 0
            seen += 1
            self._windows[kind] = (started, seen)  # re-inserted last: the dict runs oldest first
            if len(self._windows) > MAX_KINDS:
                self._windows.pop(next(iter(self._windows)))
        within = seen <= self.per_window
        return LogVerdict(within, not within and is_power_of_ten(seen), seen)


MAX_KINDS = 1000


def is_power_of_ten(number: int) -> bool:
    text = str(number)
    return text[0] == "1" and text[1:] == "0" * (len(text) - 1)


def error_kind(error: BaseException) -> tuple[str, str, int]:
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    if frame is None:
        return (type(error).__name__, "", 0)
    return (type(error).__name__, frame.tb_frame.f_code.co_filename, frame.tb_lineno)
