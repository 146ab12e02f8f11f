"""Idempotent create (`Idempotency-Key`), on every frontend."""

from __future__ import annotations

import pytest

from tests.api.clients import make_call, request
from tests.api.conftest import User
from tests.helpers import new_user_id

TASK = {"title": "Pay rent", "priority": "high", "category": "home"}


def create(client, user, key, body=None):
    headers = {**user.headers, "Idempotency-Key": key}
    return request(client, "POST", user.tasks, headers=headers, json=body or TASK)


def count(client, user):
    return len(request(client, "GET", user.tasks, headers=user.headers).json())


def test_a_retry_with_the_same_key_gets_the_first_answer_and_creates_nothing(client, user):
    first = create(client, user, "retry-1")
    assert first.status == 201
    request(client, "PUT", user.task(first.json()["id"]), headers=user.headers, json={"title": "changed since"})
    again = create(client, user, '"retry-1"')  # quoted or bare: the same key
    assert (again.status, again.body) == (201, first.body)
    assert (again.header("location"), again.header("etag")) == (first.header("location"), first.header("etag"))
    assert count(client, user) == 1


def test_the_same_key_with_another_body_is_422(client, user):
    create(client, user, "retry-2")
    other = create(client, user, "retry-2", {**TASK, "title": "Something else"})
    assert other.status == 422
    assert other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert count(client, user) == 1


def test_keys_are_per_user(client, user):
    other = User(new_user_id())
    assert create(client, user, "shared").status == 201
    mine_too = create(client, other, "shared")
    assert mine_too.status == 201 and count(client, other) == 1


@pytest.mark.parametrize("key", ["", " ", "a b", "é", "x" * 256, '"unclosed', 'a"b'])
def test_a_malformed_key_is_400(client, user, key):
    result = create(client, user, key)
    assert (result.status, result.json()["detail"]) == (
        400, "Idempotency-Key must be 1 to 255 visible ASCII characters, bare or quoted")
    assert count(client, user) == 0


def test_twenty_concurrent_creates_with_one_key_make_one_task(client, user):
    calls = [make_call("POST", user.tasks, {**user.headers, "Idempotency-Key": "burst"}, TASK, None)
             for _ in range(20)]
    results = client.many(calls)
    created = [r for r in results if r.status == 201]
    assert all(r.status in (201, 409) for r in results)
    assert len({r.body for r in created}) == 1 and len(created) >= 1
    assert count(client, user) == 1


def test_an_expired_key_is_free_again(client, user, frontend_factory):
    short = frontend_factory(client.name, idempotency_key_ttl_seconds=1)
    assert create(short, user, "brief").status == 201
    import time

    time.sleep(1.5)
    again = create(short, user, "brief", {**TASK, "title": "a new one"})
    assert (again.status, again.json()["title"]) == (201, "a new one")
    assert count(short, user) == 2
