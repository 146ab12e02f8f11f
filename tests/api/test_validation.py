"""Every kind of bad input is a 422 (or 413) with a body that says where and why."""

import json

import pytest

from tests.api.clients import create_task, request

VALID = {"title": "ok", "priority": "low", "category": "work"}


def problems(result):
    assert result.status == 422, result.body
    detail = result.json()["detail"]
    assert isinstance(detail, list) and detail
    for entry in detail:
        assert set(entry) == {"loc", "msg", "type"}
    return {tuple(entry["loc"]): entry["type"] for entry in detail}


BAD_CREATES = {
    "missing title": ({"priority": "low", "category": "work"}, ("body", "title"), "missing"),
    "missing priority": ({"title": "t", "category": "work"}, ("body", "priority"), "missing"),
    "missing category": ({"title": "t", "priority": "low"}, ("body", "category"), "missing"),
    "empty title": ({**VALID, "title": ""}, ("body", "title"), "string_blank"),
    "blank title": ({**VALID, "title": " \t\n "}, ("body", "title"), "string_blank"),
    "null title": ({**VALID, "title": None}, ("body", "title"), "null_not_allowed"),
    "long title": ({**VALID, "title": "t" * 256}, ("body", "title"), "string_too_long"),
    "numeric title": ({**VALID, "title": 5}, ("body", "title"), "string_type"),
    "long description": ({**VALID, "description": "d" * 1001}, ("body", "description"), "string_too_long"),
    "list description": ({**VALID, "description": ["x"]}, ("body", "description"), "string_type"),
    "bad priority": ({**VALID, "priority": "urgent"}, ("body", "priority"), "enum"),
    "priority case": ({**VALID, "priority": "High"}, ("body", "priority"), "enum"),
    "bad category": ({**VALID, "category": "school"}, ("body", "category"), "enum"),
    "unhashable category": ({**VALID, "category": {"a": 1}}, ("body", "category"), "enum"),
    "NUL in title": ({**VALID, "title": "a\x00b"}, ("body", "title"), "string_nul"),
    "NUL in description": ({**VALID, "description": "\x00"}, ("body", "description"), "string_nul"),
    "date only": ({**VALID, "dueDate": "2030-01-01"}, ("body", "dueDate"), "datetime_format"),
    "naive date-time": ({**VALID, "dueDate": "2030-01-01T10:00:00"}, ("body", "dueDate"), "datetime_format"),
    "not a date": ({**VALID, "dueDate": "tomorrow"}, ("body", "dueDate"), "datetime_format"),
    "impossible date": ({**VALID, "dueDate": "2030-02-30T10:00:00Z"}, ("body", "dueDate"), "datetime_range"),
    "before year 1 in UTC": ({**VALID, "dueDate": "0001-01-01T00:00:00+01:00"}, ("body", "dueDate"), "datetime_range"),
    "first day": ({**VALID, "dueDate": "0001-01-01T12:00:00Z"}, ("body", "dueDate"), "datetime_range"),
    "last day": ({**VALID, "dueDate": "9999-12-31T00:00:00Z"}, ("body", "dueDate"), "datetime_range"),
    "numeric date": ({**VALID, "dueDate": 1700000000}, ("body", "dueDate"), "datetime_type"),
    "client id": ({**VALID, "id": "00000000-0000-0000-0000-000000000000"}, ("body", "id"), "read_only"),
    "client owner": ({**VALID, "userId": "someone-else"}, ("body", "userId"), "read_only"),
    "client status": ({**VALID, "status": "completed"}, ("body", "status"), "read_only"),
    "client completed": ({**VALID, "completed": True}, ("body", "completed"), "read_only"),
    "client createdAt": ({**VALID, "createdAt": "2020-01-01T00:00:00Z"}, ("body", "createdAt"), "read_only"),
    "unknown key": ({**VALID, "colour": "red"}, ("body", "colour"), "extra_forbidden"),
    "snake case key": ({**VALID, "due_date": None}, ("body", "due_date"), "extra_forbidden"),
}


@pytest.mark.parametrize("case", list(BAD_CREATES))
def test_bad_create_is_422_at_the_field(client, user, case):
    body, loc, kind = BAD_CREATES[case]
    result = request(client, "POST", user.tasks, headers=user.headers, json=body)
    assert problems(result) == {loc: kind}
    listed = request(client, "GET", user.tasks, headers=user.headers).json()
    assert listed == []  # nothing was stored


def test_every_problem_is_reported_at_once(client, user):
    result = request(client, "POST", user.tasks, headers=user.headers,
                     json={"title": "", "priority": "x", "owner": 1})
    assert problems(result) == {
        ("body", "title"): "string_blank",
        ("body", "priority"): "enum",
        ("body", "category"): "missing",
        ("body", "owner"): "extra_forbidden",
    }


BAD_BODIES = {
    "empty": b"",
    "not json": b"title=x",
    "truncated": b'{"title": "x"',
    "array": b"[]",
    "string": b'"text"',
    "null": b"null",
    "number": b"42",
    "invalid utf-8": b'{"title": "\xff\xfe"}',
    "deep nesting": b"[" * 30000 + b"]" * 30000,
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_malformed_body_is_422(client, user, case):
    for method, path in [("POST", user.tasks), ("PUT", user.task("00000000-0000-0000-0000-000000000000"))]:
        result = request(client, method, path, headers={**user.headers, "Content-Type": "application/json"},
                         body=BAD_BODIES[case])
        assert problems(result).keys() == {("body",)}, (case, method)


def test_lone_surrogate_is_422_not_500(client, user):
    body = b'{"title": "bad \\ud800 text", "priority": "low", "category": "work"}'
    result = request(client, "POST", user.tasks, headers=user.headers, body=body)
    assert problems(result) == {("body", "title"): "string_unicode"}


def test_bad_update_is_422_and_changes_nothing(client, user):
    task = create_task(client, user, title="Keep")
    for body in [{"title": ""}, {"title": None}, {"priority": "x"}, {"status": "completed"},
                 {"userId": "thief"}, {"title": "ok", "bogus": 1}, {"dueDate": "soon"}]:
        result = request(client, "PUT", user.task(task["id"]), headers=user.headers, json=body)
        assert result.status == 422, body
    assert request(client, "GET", user.task(task["id"]), headers=user.headers).json() == task


def test_body_over_64_kib_is_413(client, user):
    body = json.dumps({**VALID, "description": "x" * (70 * 1024)}).encode()
    result = request(client, "POST", user.tasks, headers=user.headers, body=body)
    assert result.status == 413
    assert "detail" in result.json()
    just_under = json.dumps({**VALID, "padding": " " * (60 * 1024)}).encode()
    assert request(client, "POST", user.tasks, headers=user.headers, body=just_under).status == 422
