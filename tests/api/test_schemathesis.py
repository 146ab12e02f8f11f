"""Schemathesis against both frontends in-process, from the document they serve.

Every check on, positive and negative data: no 5xx, statuses, headers, content types
and bodies as documented, invalid input refused, valid input accepted, auth enforced
(its auth hook mints the token, so its `ignored_auth` check can drop it and expect a
401), then its stateful phase (create, then get, update, toggle, delete what it made).
The user in the path is the token's user, else nearly every case would be a 403.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Flaky, Unsatisfiable
from schemathesis import GenerationMode

from tests.helpers import make_token, new_user_id
from todo_api.serve.frontends import FRONTENDS

USER = new_user_id()


class MintedToken:
    """schemathesis's auth hook: a fresh token for USER, cached by schemathesis; one that
    expires now for an event stream, so that it ends after its first event."""

    def get(self, case: Any, context: Any) -> str:
        return make_token(USER)

    def set(self, case: Any, data: str, context: Any) -> None:
        if case.path.endswith("/events"):  # a token at its `exp` (within the leeway): the stream ends at once
            data = make_token(USER, exp=int(time.time()))
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def prepared(schema: Any) -> Any:
    """The schema with the token hook, the user in the path, no unknown query parameters
    generated (they are ignored on purpose: cache busters, docs/api.md), no made-up
    cursors or Idempotency-Keys, and 412 and 410 counted as answers to valid data."""
    schema.config.generation.update(allow_extra_parameters=False)
    # a well-formed If-Match that names a version the task does not have is a 412 (RFC 9110)
    accepted = schema.config.checks.positive_data_acceptance
    # a well-formed `since` the user's feed has not reached (or no longer keeps) is a 410
    accepted.expected_statuses = [*accepted.expected_statuses, "412", "410"]
    schema.auth()(MintedToken)  # registers it (schema.auth(cls) would decorate a test)

    @schema.hook
    def map_path_parameters(context: Any, path_parameters: dict[str, Any]) -> dict[str, Any]:
        if path_parameters and "user_id" in path_parameters:
            path_parameters["user_id"] = USER
        return path_parameters

    @schema.hook
    def map_headers(context: Any, headers: dict[str, Any] | None) -> dict[str, Any] | None:
        if headers:  # generated keys repeat with other bodies (a 422): test_idempotency.py covers keys
            headers.pop("Idempotency-Key", None)
        return headers

    @schema.hook
    def map_query(context: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
        if query:  # an opaque cursor only comes from a Link: tests/api/test_pagination.py tries bad ones
            query.pop("cursor", None)
        return query

    return schema


def every_operation_conforms(schema: Any, max_examples: int, modes: Iterable[GenerationMode]) -> None:
    """Each operation in each mode as a hypothesis test (schemathesis's pytest plugin cannot
    take a schema from a fixture under pytest 9)."""
    fuzz = settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck),
                    database=None)
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in modes:

            @fuzz
            @given(case=operation.as_strategy(generation_mode=mode))
            def conforms(case: Any) -> None:
                case.call_and_validate()

            try:
                conforms()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label  # nothing in it to spoil


@pytest.fixture(scope="module", params=list(FRONTENDS))
def api_schema(request: pytest.FixtureRequest, settings: Any) -> Iterator[Any]:
    frontend = FRONTENDS[request.param]
    app = frontend.create_app(settings)
    load = schemathesis.openapi.from_wsgi if frontend.interface == "wsgi" else schemathesis.openapi.from_asgi
    yield prepared(load("/openapi.json", app))
    if frontend.interface == "wsgi":
        app.extensions["todo_api"].close()


def test_every_operation_conforms(api_schema: Any) -> None:
    every_operation_conforms(api_schema, max_examples=40, modes=list(GenerationMode))


def test_stateful_sequences_conform(api_schema: Any) -> None:
    """Valid data only (negative data is the test above's), and no shrinking. A sequence
    drawn from links to what the server made can draw differently on a replay, which
    hypothesis reports as flaky generation; schemathesis's runner then starts a new run,
    and so does this test (at most three)."""
    generation = api_schema.config.generation
    generation.update(modes=[GenerationMode.POSITIVE])
    machine = api_schema.as_state_machine()
    stateful = settings(max_examples=25, stateful_step_count=6, deadline=None, database=None,
                        suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    try:
        for attempt in range(3):
            try:
                machine.run(settings=stateful)
                break
            except Flaky:  # schemathesis's own runner starts again too; a failed check is no Flaky
                assert attempt < 2, "three runs in a row ended in hypothesis's flaky-generation error"
    finally:
        generation.update(modes=list(GenerationMode))
