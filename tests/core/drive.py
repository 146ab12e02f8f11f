"""Running a plan by hand: the test plays the database, answering each query."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

from core.http import Response
from core.plan import Plan, Query, Rows, StorageFailure, advance
from core.tracing import Exchange

T = TypeVar("T")
Answer = Callable[[Query], "Rows | StorageFailure"]


def drive(plan: Plan, answer: Answer | None = None) -> tuple[Response, list[Query]]:
    """The plan's response and every query it asked, answered by `answer` (no rows by default)."""
    asked: list[Query] = []
    step = advance(plan, None)
    while isinstance(step, Query):
        asked.append(step)
        step = advance(plan, answer(step) if answer else [])
    return step, asked


def settle(generator: Generator[Any, Any, T], answer: Callable[[Any], Any] | None = None) -> T:
    """Run any core generator to its return value, answering what it yields with `answer`."""
    try:
        request = next(generator)
        while True:
            assert answer is not None, f"unexpected request {request!r}"
            request = generator.send(answer(request))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def an_exchange() -> Exchange:
    """A request's exchange, for calling the core's parts that fill one in."""
    return Exchange("test-request", None, "GET", 0.0)
