"""Advancing a plan by one step: the part of running a plan that has no I/O in it."""

from __future__ import annotations

from core.http import Response
from core.plan import Plan, Query, Rows, StorageFailure


def advance(plan: Plan, reply: Rows | StorageFailure | None) -> Query | Response:
    """Send the rows (or throw the failure) into the plan; its next query or its response."""
    try:
        if isinstance(reply, StorageFailure):
            return plan.throw(reply)
        return plan.send(reply)  # type: ignore[arg-type]  # None starts the generator
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
