"""Running a plan by hand: the test plays the database, answering each query."""

from __future__ import annotations

from collections.abc import Callable

from core.http import Response
from core.plan import Plan, Query, Rows, StorageFailure
from storage.stepping import advance

Answer = Callable[[Query], "Rows | StorageFailure"]


def drive(plan: Plan, answer: Answer | None = None) -> tuple[Response, list[Query]]:
    """The plan's response and every query it asked, answered by `answer` (no rows by default)."""
    asked: list[Query] = []
    step = advance(plan, None)
    while isinstance(step, Query):
        asked.append(step)
        step = advance(plan, answer(step) if answer else [])
    return step, asked
