"""Counts by status, priority and category, and overdue, for one user only."""

from tests.api.clients import create_task, request

ZERO = {
    "total": 0, "pending": 0, "completed": 0, "overdue": 0,
    "byPriority": {"low": 0, "medium": 0, "high": 0},
    "byCategory": {"work": 0, "personal": 0, "home": 0, "other": 0},
}


def stats(client, user):
    result = request(client, "GET", user.stats, headers=user.headers)
    assert result.status == 200
    return result.json()


def test_stats_of_a_new_user_are_all_zero(client, user):
    assert stats(client, user) == ZERO


def test_stats_count_everything(client, user):
    past, future = "2001-01-01T00:00:00Z", "2999-01-01T00:00:00Z"
    create_task(client, user, priority="low", category="work", dueDate=past)       # overdue
    create_task(client, user, priority="high", category="home", dueDate=future)
    create_task(client, user, priority="high", category="other")
    done = create_task(client, user, priority="medium", category="work", dueDate=past)
    request(client, "PATCH", user.task(done["id"], "/complete"), headers=user.headers)
    assert stats(client, user) == {
        "total": 4, "pending": 3, "completed": 1, "overdue": 1,
        "byPriority": {"low": 1, "medium": 1, "high": 2},
        "byCategory": {"work": 2, "personal": 0, "home": 1, "other": 1},
    }
