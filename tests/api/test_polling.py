"""Cheap 304s for a polling client: the list's and the stats' ETags, on every frontend."""

from __future__ import annotations

from tests.api.clients import create_task, request
from tests.api.conftest import User
from tests.helpers import new_user_id


def poll(client, user, path, etag):
    return request(client, "GET", path, headers={**user.headers, "If-None-Match": etag})


def test_a_list_poll_is_304_until_any_of_the_users_tasks_changes(client, user):
    task = create_task(client, user)
    listed = request(client, "GET", user.tasks, headers=user.headers)
    etag = listed.header("etag")
    assert etag
    unchanged = poll(client, user, user.tasks, etag)
    assert (unchanged.status, unchanged.body, unchanged.header("etag")) == (304, b"", etag)
    changes = [
        ("PUT", user.task(task["id"]), {"title": "edited"}),
        ("PATCH", user.task(task["id"], "/complete"), None),
        ("POST", user.tasks, {"title": "t", "priority": "low", "category": "work"}),
        ("DELETE", user.task(task["id"]), None),
    ]
    for method, path, body in changes:
        assert request(client, method, path, headers=user.headers, json=body).status < 300
        fresh = poll(client, user, user.tasks, etag)
        assert fresh.status == 200, method
        assert fresh.header("etag") != etag
        etag = fresh.header("etag")
        assert poll(client, user, f"{user.tasks}?sort_by=title", etag).status == 304


def test_another_users_changes_do_not_disturb_a_poll(client, user):
    create_task(client, user)
    etag = request(client, "GET", user.tasks, headers=user.headers).header("etag")
    stats_etag = request(client, "GET", user.stats, headers=user.headers).header("etag")
    other = User(new_user_id())
    create_task(client, other)
    assert poll(client, user, user.tasks, etag).status == 304
    assert poll(client, user, user.stats, stats_etag).status == 304


def test_a_stats_poll_is_304_while_the_numbers_stand(client, user):
    task = create_task(client, user)
    stats = request(client, "GET", user.stats, headers=user.headers)
    etag = stats.header("etag")
    request(client, "PUT", user.task(task["id"]), headers=user.headers, json={"title": "counts stay"})
    assert poll(client, user, user.stats, etag).status == 304  # the same numbers: the same answer
    request(client, "PATCH", user.task(task["id"], "/complete"), headers=user.headers)
    moved = poll(client, user, user.stats, etag)
    assert (moved.status, moved.json()["completed"]) == (200, 1)
    assert moved.header("etag") != etag


def test_a_new_user_has_an_etag_and_a_head_poll_works(client, user):
    empty = request(client, "GET", user.tasks, headers=user.headers)
    assert (empty.json(), bool(empty.header("etag"))) == ([], True)
    head = request(client, "HEAD", user.tasks, headers={**user.headers, "If-None-Match": empty.header("etag")})
    assert (head.status, head.body) == (304, b"")


def test_an_empty_page_still_has_the_lists_etag(client, user):
    create_task(client, user)
    full = request(client, "GET", user.tasks, headers=user.headers).header("etag")
    empty = request(client, "GET", f"{user.tasks}?status=completed", headers=user.headers)
    assert (empty.json(), empty.header("etag")) == ([], full)
