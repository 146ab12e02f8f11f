"""What a client sends cannot start a log line, fake a field, or flood the log with tracebacks."""

import logging

import pytest

from core import Api, Request
from core.auth import Authenticator
from core.logsafe import LOGGED_TEXT_LIMIT, TracebackBudget, quoted
from core.routes import Operation, Route
from tests.core.drive import drive
from tests.helpers import SECRET

FORGED = "2026-01-01 00:00:00,000 ERROR todo_api: forged"


@pytest.mark.parametrize("separator", ["\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x1b[2J"])
def test_no_line_break_or_terminal_control_survives(separator):
    logged = quoted(f"/tasks{separator}{FORGED}")
    assert logged.splitlines() == [logged]
    assert all(ch.isprintable() for ch in logged)


def test_quotes_and_backslashes_cannot_close_the_field():
    logged = quoted('a" status="200 \\" b')
    assert logged == '"a\\" status=\\"200 \\\\\\" b"'
    assert logged.count('"') - logged.count('\\"') == 2  # only the two that delimit it


def test_long_text_is_cut_and_says_so():
    logged = quoted("x" * (LOGGED_TEXT_LIMIT + 1000))
    assert logged.endswith('" (+1000 characters)') and len(logged) < LOGGED_TEXT_LIMIT + 30


def test_unicode_text_is_kept_readable():
    assert quoted("/api/josé/tasks") == '"/api/josé/tasks"'


def failing_api(budget: TracebackBudget) -> Api:
    def boom(ctx):
        raise RuntimeError("a bug")

    api = Api(Authenticator(secret=SECRET), routes=(Route("/boom/{rest}", {"GET": Operation(boom, "boom", "boom", {200: None})},
                                                      authenticated=False),))
    api.tracebacks = budget
    return api


def test_an_unexpected_error_logs_the_path_quoted_on_one_line(caplog):
    api = failing_api(TracebackBudget())
    path = f"/boom/x\n{FORGED}"
    with caplog.at_level(logging.ERROR, logger="todo_api"):
        response, _ = drive(api.handle(Request("GET", path, b"", {}, b"")))
    assert response.status == 500
    (record,) = caplog.records
    assert record.getMessage() == f'unexpected error on "GET" {quoted(path)}'
    assert "\n" not in record.getMessage() and record.exc_info is not None


def test_a_repeated_error_logs_a_few_tracebacks_then_counts(caplog):
    now = [0.0]
    api = failing_api(TracebackBudget(per_window=5, window=60, clock=lambda: now[0]))
    with caplog.at_level(logging.ERROR, logger="todo_api"):
        for _ in range(1000):
            drive(api.handle(Request("GET", "/boom/again", b"", {}, b"")))
    with_traceback = [r for r in caplog.records if r.exc_info]
    counting = [r.getMessage() for r in caplog.records if not r.exc_info]
    assert len(with_traceback) == 5
    assert [line.split(": RuntimeError, ")[1].split(" ")[0] for line in counting] == ["10", "100", "1000"]
    caplog.clear()
    now[0] = 61.0  # a new window: tracebacks again
    with caplog.at_level(logging.ERROR, logger="todo_api"):
        drive(api.handle(Request("GET", "/boom/later", b"", {}, b"")))
    assert caplog.records[0].exc_info is not None


def test_each_kind_of_error_has_its_own_budget():
    budget = TracebackBudget(per_window=1, window=60, clock=lambda: 0.0)
    errors = []
    for make in (ValueError, KeyError, ValueError):
        try:
            raise make("x")
        except Exception as error:  # noqa: BLE001 - the test needs the raised error
            errors.append(error)
    assert [budget.verdict(e).traceback for e in errors] == [True, True, False]
