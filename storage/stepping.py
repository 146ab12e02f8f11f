"""Advancing a plan by one step: the part of running a plan that has no I/O in it."""

from __future__ import annotations

from core.http import Response
from core.keys import FetchedKeys
from core.plan import Effect, Plan, Rows, StorageFailure


def advance(plan: Plan, reply: Rows | FetchedKeys | bytes | StorageFailure | None) -> Effect | Response:
    """Send the reply (or throw the failure) into the plan; its next request or its response."""
    try:
        if isinstance(reply, StorageFailure):
            return plan.throw(reply)
        return plan.send(reply)  # None starts the generator
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
