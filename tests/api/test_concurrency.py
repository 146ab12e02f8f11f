"""Parallel requests lose nothing: toggles serialize in the database, creates all land."""

from tests.api.clients import Call, create_task, request


def test_twenty_concurrent_toggles_leave_the_task_where_twenty_flips_should(client, user):
    task = create_task(client, user)
    results = client.many([Call("PATCH", user.task(task["id"], "/complete"), user.headers)] * 20)
    assert [r.status for r in results] == [200] * 20
    assert sorted(r.json()["completed"] for r in results).count(True) == 10
    final = request(client, "GET", user.task(task["id"]), headers=user.headers).json()
    assert (final["status"], final["completed"]) == ("pending", False)


def test_twenty_one_concurrent_toggles_end_completed(client, user):
    task = create_task(client, user)
    client.many([Call("PATCH", user.task(task["id"], "/complete"), user.headers)] * 21)
    final = request(client, "GET", user.task(task["id"]), headers=user.headers).json()
    assert (final["status"], final["completed"]) == ("completed", True)


def test_concurrent_creates_all_land(client, user):
    body = b'{"title": "parallel", "priority": "low", "category": "home"}'
    results = client.many([Call("POST", user.tasks, user.headers, body)] * 30)
    assert [r.status for r in results] == [201] * 30
    assert len({r.json()["id"] for r in results}) == 30
    assert len(request(client, "GET", user.tasks, headers=user.headers).json()) == 30
