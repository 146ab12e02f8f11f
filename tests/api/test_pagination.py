"""Keyset pagination of the list (`limit`, `cursor`, `Link: rel="next"`), on every frontend."""

from __future__ import annotations

import re

import pytest

from core.listing import SORT_FIELDS
from tests.api.clients import api_path, create_task, request
from tests.api.conftest import User
from tests.helpers import new_user_id

LINK = re.compile(r'<([^>]+)>; rel="next"')


def next_of(client, result):
    link = result.header("link")
    if link is None:
        return None
    match = LINK.fullmatch(link)
    assert match, link
    return api_path(client, match[1])


def walk(client, user, query, limit):
    """Every page of `query`, following `next`: the tasks' ids in order, and the pages."""
    path, ids, pages = f"{user.tasks}?{query}&limit={limit}", [], 0
    while path is not None:
        result = request(client, "GET", path, headers=user.headers)
        assert result.status == 200, result.body
        ids += [task["id"] for task in result.json()]
        pages += 1
        path = next_of(client, result)
    return ids, pages


@pytest.fixture(scope="module")
def varied(client):
    """A user with tasks that differ in every sort key, ties and missing due dates included."""
    user = User(new_user_id())
    titles = ["apple", "Banana", "banana", "cherry", "Cherry", "date", "Éclair", "fig", "apple", "grape", "kiwi"]
    dues = [None, "2030-01-01T00:00:00Z", None, "2029-06-01T12:00:00+02:00", "2030-01-01T00:00:00Z", None,
            "2031-03-03T03:03:03.123456Z", None, "2028-01-01T00:00:00Z", None, "2030-01-01T00:00:00Z"]
    for n, (title, due) in enumerate(zip(titles, dues, strict=True)):
        task = create_task(client, user, title=title, dueDate=due, priority=("low", "medium", "high")[n % 3],
                           category=("work", "home")[n % 2])
        if n % 4 == 0:
            request(client, "PATCH", user.task(task["id"], "/complete"), headers=user.headers)
    return user


@pytest.mark.parametrize("sort_by", SORT_FIELDS)
@pytest.mark.parametrize("sort_order", ["asc", "desc"])
def test_following_next_yields_every_task_once_in_the_unpaged_order(client, varied, sort_by, sort_order):
    for query in (f"sort_by={sort_by}&sort_order={sort_order}",
                  f"sort_by={sort_by}&sort_order={sort_order}&category=work&search=a"):
        unpaged = [task["id"] for task in request(client, "GET", f"{varied.tasks}?{query}",
                                                  headers=varied.headers).json()]
        for limit in (1, 4):
            ids, pages = walk(client, varied, query, limit)
            assert ids == unpaged, (query, limit)
            assert pages == max(1, -(-len(unpaged) // limit))


def test_the_next_link_repeats_the_query(client, varied):
    first = request(client, "GET", f"{varied.tasks}?status=pending&search=a&sort_by=title&sort_order=asc&limit=2",
                    headers=varied.headers)
    link = first.header("link")
    assert link.startswith(f"<{client.base}{varied.tasks}?") and link.endswith('>; rel="next"')
    for part in ("status=pending", "search=a", "sort_by=title", "sort_order=asc", "limit=2", "cursor="):
        assert part in link, part
    assert first.header("x-truncated") is None


def test_without_a_limit_a_long_list_is_cut_with_a_next_link(client, user, frontend_factory):
    small = frontend_factory(client.name, list_max_items=3)
    for n in range(5):
        create_task(small, user, title=f"t{n}")
    first = request(small, "GET", user.tasks, headers=user.headers)
    assert (len(first.json()), first.header("x-truncated")) == (3, "true")
    rest = request(small, "GET", next_of(small, first), headers=user.headers)
    assert len(rest.json()) == 2 and rest.header("link") is None
    assert {t["id"] for t in first.json()} | {t["id"] for t in rest.json()} == {
        t["id"] for t in request(small, "GET", f"{user.tasks}?limit=10", headers=user.headers).json()}


def test_tasks_created_or_deleted_between_pages_never_shift_the_others(client, user):
    existing = [create_task(client, user, title=f"task {n:02d}")["id"] for n in range(12)]
    path, seen, deleted = f"{user.tasks}?sort_by=createdAt&sort_order=asc&limit=3", [], set()
    while path is not None:
        page = request(client, "GET", path, headers=user.headers)
        seen += [task["id"] for task in page.json()]
        for task_id in seen[-2:]:  # delete some already seen, and create new ones
            if task_id not in deleted:
                request(client, "DELETE", user.task(task_id), headers=user.headers)
                deleted.add(task_id)
        create_task(client, user, title="newcomer")
        path = next_of(client, page)
    assert len(seen) == len(set(seen))  # no duplicate
    assert [task_id for task_id in seen if task_id in existing] == existing  # none skipped, in order


@pytest.mark.parametrize("limit", ["0", "1001", "x", "-1", "2.5", ""])
def test_a_bad_limit_is_422(client, user, limit):
    result = request(client, "GET", f"{user.tasks}?limit={limit}", headers=user.headers)
    assert (result.status, result.json()["detail"][0]["loc"]) == (422, ["query", "limit"])


def test_a_malformed_tampered_or_foreign_cursor_is_422(client, varied):
    first = request(client, "GET", f"{varied.tasks}?sort_by=title&limit=2", headers=varied.headers)
    cursor = re.search(r"cursor=([^&>]+)", first.header("link"))[1]
    other = User(new_user_id())
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    attempts = [
        (varied, "sort_by=title", "not-a-cursor"),
        (varied, "sort_by=title", ""),
        (varied, "sort_by=title", tampered),
        (varied, "sort_by=dueDate", cursor),
        (varied, "sort_by=title&sort_order=asc", cursor),
        (varied, "sort_by=title&status=pending", cursor),
        (other, "sort_by=title", cursor),
    ]
    for owner, query, value in attempts:
        result = request(client, "GET", f"{owner.tasks}?{query}&limit=2&cursor={value}", headers=owner.headers)
        assert result.status == 422, (query, value)
        assert result.json()["detail"][0]["loc"] == ["query", "cursor"]
