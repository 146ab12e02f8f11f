"""No route lets one user see, change or delete another user's task."""

from tests.api.clients import create_task, request
from tests.api.conftest import User
from tests.helpers import new_user_id


def test_another_users_task_id_is_404_and_the_task_is_unchanged(client, user):
    victim = User(new_user_id())
    task = create_task(client, victim, title="Private", description="secret")
    attempts = [
        ("GET", "", None),
        ("PUT", "", {"title": "Hijacked"}),
        ("PATCH", "/complete", None),
        ("DELETE", "", None),
    ]
    for method, suffix, body in attempts:
        result = request(client, method, user.task(task["id"], suffix), headers=user.headers, json=body)
        assert result.status == 404, method
        assert result.json() == {"detail": "Task not found"}
    still = request(client, "GET", victim.task(task["id"]), headers=victim.headers)
    assert still.status == 200
    assert still.json() == task


def test_lists_and_stats_hold_only_the_callers_tasks(client, user):
    other = User(new_user_id())
    create_task(client, other, title="theirs")
    mine = create_task(client, user, title="mine")
    assert request(client, "GET", user.tasks, headers=user.headers).json() == [mine]
    assert request(client, "GET", f"{user.tasks}?search=theirs", headers=user.headers).json() == []
    assert request(client, "GET", user.stats, headers=user.headers).json()["total"] == 1


def test_created_task_belongs_to_the_token_subject(client, user):
    task = create_task(client, user)
    assert task["userId"] == user.id
