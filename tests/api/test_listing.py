"""Filters, search and every sort order of the list endpoint."""

import time
from urllib.parse import quote

import pytest

from tests.api.clients import create_task, request


def listed(client, user, query=""):
    result = request(client, "GET", f"{user.tasks}?{query}" if query else user.tasks, headers=user.headers)
    assert result.status == 200, result.body
    return result.json()


def titles(client, user, query=""):
    return [t["title"] for t in listed(client, user, query)]


def test_empty_list_is_an_empty_array(client, user):
    assert listed(client, user) == []


def test_filters_by_status_priority_and_category(client, user):
    a = create_task(client, user, title="a", priority="low", category="work")
    create_task(client, user, title="b", priority="high", category="home")
    create_task(client, user, title="c", priority="high", category="work")
    request(client, "PATCH", user.task(a["id"], "/complete"), headers=user.headers)
    assert sorted(titles(client, user, "status=completed")) == ["a"]
    assert sorted(titles(client, user, "status=pending")) == ["b", "c"]
    assert sorted(titles(client, user, "priority=high")) == ["b", "c"]
    assert sorted(titles(client, user, "category=work")) == ["a", "c"]
    assert titles(client, user, "priority=high&category=work") == ["c"]
    assert sorted(titles(client, user, "status=&priority=")) == ["a", "b", "c"]  # empty = all
    assert sorted(titles(client, user, "unknown=1&_=123")) == ["a", "b", "c"]


def test_search_is_case_insensitive_over_title_and_description(client, user):
    create_task(client, user, title="Buy MILK")
    create_task(client, user, title="Other", description="remember the milk")
    create_task(client, user, title="Unrelated")
    assert sorted(titles(client, user, "search=milk")) == ["Buy MILK", "Other"]
    assert sorted(titles(client, user, "search=MiLk")) == ["Buy MILK", "Other"]


@pytest.mark.parametrize("needle, expected", [
    ("%", ["100% done"]),
    ("_", ["snake_case"]),
    ("\\", ["back\\slash"]),
    ("e_c", ["snake_case"]),
    ("0%", ["100% done"]),
])
def test_search_wildcards_match_themselves(client, user, needle, expected):
    for title in ["100% done", "snake_case", "back\\slash", "plain"]:
        create_task(client, user, title=title)
    assert titles(client, user, "search=" + quote(needle)) == expected


def test_search_with_quotes_and_unicode(client, user):
    create_task(client, user, title="It's \"quoted\" — café")
    assert len(listed(client, user, "search=" + quote("'s \"quoted\""))) == 1
    assert len(listed(client, user, "search=" + quote("café"))) == 1


def test_default_order_is_newest_first(client, user):
    for name in ["first", "second", "third"]:
        create_task(client, user, title=name)
    assert titles(client, user) == ["third", "second", "first"]
    assert titles(client, user, "sort_order=asc") == ["first", "second", "third"]
    assert titles(client, user, "sort_by=createdAt&sort_order=desc") == ["third", "second", "first"]


def test_sort_by_updated_at(client, user):
    a = create_task(client, user, title="a")
    create_task(client, user, title="b")
    time.sleep(0.002)
    request(client, "PUT", user.task(a["id"]), headers=user.headers, json={"description": "touched"})
    assert titles(client, user, "sort_by=updatedAt") == ["a", "b"]
    assert titles(client, user, "sort_by=updatedAt&sort_order=asc") == ["b", "a"]


def test_priority_sorts_by_rank_not_alphabet(client, user):
    for priority in ["medium", "high", "low"]:
        create_task(client, user, title=priority, priority=priority)
    assert titles(client, user, "sort_by=priority&sort_order=asc") == ["low", "medium", "high"]
    assert titles(client, user, "sort_by=priority&sort_order=desc") == ["high", "medium", "low"]


def test_due_date_sorts_with_undated_tasks_last_both_ways(client, user):
    create_task(client, user, title="none")
    create_task(client, user, title="late", dueDate="2031-01-01T00:00:00Z")
    create_task(client, user, title="early", dueDate="2030-01-01T00:00:00+05:00")
    assert titles(client, user, "sort_by=dueDate&sort_order=asc") == ["early", "late", "none"]
    assert titles(client, user, "sort_by=dueDate&sort_order=desc") == ["late", "early", "none"]


def test_title_sorts_case_insensitively(client, user):
    for title in ["banana", "Apple", "cherry"]:
        create_task(client, user, title=title)
    assert titles(client, user, "sort_by=title&sort_order=asc") == ["Apple", "banana", "cherry"]
    assert titles(client, user, "sort_by=title&sort_order=desc") == ["cherry", "banana", "Apple"]


def test_ties_are_broken_by_id(client, user):
    for _ in range(6):
        create_task(client, user, title="same", priority="low")
    ids = [t["id"] for t in listed(client, user, "sort_by=title&sort_order=asc")]
    assert ids == sorted(ids)
    ids = [t["id"] for t in listed(client, user, "sort_by=priority&sort_order=desc")]
    assert ids == sorted(ids, reverse=True)


@pytest.mark.parametrize("query, loc", [
    ("status=done", "status"),
    ("priority=urgent", "priority"),
    ("category=school", "category"),
    ("sort_by=created_at", "sort_by"),
    ("sort_by=userId", "sort_by"),
    ("sort_by=title;DROP TABLE tasks", "sort_by"),
    ("sort_order=up", "sort_order"),
    ("sort_order=ASC", "sort_order"),
    ("status=pending&status=completed", "status"),
    ("search=a%00b", "search"),
    ("search=" + "x" * 256, "search"),
])
def test_bad_list_parameters_are_422(client, user, query, loc):
    result = request(client, "GET", f"{user.tasks}?{query}", headers=user.headers)
    assert result.status == 422
    assert [entry["loc"] for entry in result.json()["detail"]] == [["query", loc]]


def test_query_string_that_is_not_utf8_is_422(client, user):
    result = request(client, "GET", f"{user.tasks}?search=%ff%fe", headers=user.headers)
    assert result.status == 422
    assert result.json()["detail"][0]["loc"] == ["query"]
