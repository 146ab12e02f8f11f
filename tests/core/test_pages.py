"""Cursors, without a database: they round-trip, and anything not made for this very
list (another user, other filters, a forged value) is refused with a 422 problem."""

import base64
import json

import pytest

from core.errors import ValidationFailed
from core.listing import ListOptions
from core.pages import After, decode_cursor, encode_cursor, next_link

TASK = {"id": "6f1c1f55-0000-4000-8000-000000000001", "createdAt": "2026-12-01T10:00:00Z", "dueDate": None}
OPTIONS = ListOptions(filters=(("priority", "high"),), search="milk", sort_by="createdAt")


def problem_of(cursor, user_id="ann", options=OPTIONS):
    with pytest.raises(ValidationFailed) as refused:
        decode_cursor(cursor, user_id, options)
    (problem,) = refused.value.problems
    return problem.loc, problem.type


def test_a_cursor_round_trips():
    cursor = encode_cursor("ann", OPTIONS, TASK)
    assert "=" not in cursor
    assert decode_cursor(cursor, "ann", OPTIONS) == After(TASK["createdAt"], TASK["id"])


def test_a_null_due_date_is_a_position_too():
    options = ListOptions(sort_by="dueDate")
    assert decode_cursor(encode_cursor("ann", options, TASK), "ann", options) == After(None, TASK["id"])


@pytest.mark.parametrize("user_id, options", [
    ("bob", OPTIONS),
    ("ann", ListOptions(filters=(("priority", "low"),), search="milk")),
    ("ann", ListOptions(filters=(("priority", "high"),), search="bread")),
    ("ann", ListOptions(filters=(("priority", "high"),), search="milk", sort_order="asc")),
])
def test_a_cursor_of_another_list_is_refused(user_id, options):
    assert problem_of(encode_cursor("ann", OPTIONS, TASK), user_id, options) == (("query", "cursor"), "cursor_invalid")


def forged(payload):
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize("cursor", [
    "not base64 !",
    forged("a string"),
    forged(["2026-12-01T10:00:00Z", "short-id", "digest"]),
    forged(["yesterday", TASK["id"], "digest"]),
    forged(["2026-12-01T10:00:00Z\x00", TASK["id"], "digest"]),
    forged([None, TASK["id"], "digest"]),  # createdAt is never null
])
def test_a_cursor_the_api_did_not_make_is_refused(cursor):
    assert problem_of(cursor)[1] == "cursor_invalid"


def test_the_next_link_keeps_the_query_and_quotes_the_user():
    link = next_link("/todo", "ann smith", OPTIONS, 20, "CURSOR")
    assert link == ('</todo/api/ann%20smith/tasks?priority=high&search=milk&sort_by=createdAt'
                    '&sort_order=desc&limit=20&cursor=CURSOR>; rel="next"')
