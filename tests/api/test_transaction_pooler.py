"""Both frontends through a real PgBouncer in transaction mode, with zero configuration.

The scripted session of the equivalence test answers exactly as it does on a direct
connection; every route keeps answering past psycopg's 5th use of a statement (where it
would start preparing); a burst of concurrent mixed requests sees no 5xx.
"""

import random

import pytest

from tests.api.clients import Call, create_task, make_call, request
from tests.api.conftest import FRONTENDS, User
from tests.api.test_equivalence import normalized, run_script
from tests.helpers import new_user_id


@pytest.fixture(scope="module", params=FRONTENDS)
def pooled(request, settings, pooled_database_url):
    import attrs

    from tests.api.clients import make_client

    client = make_client(request.param, attrs.evolve(settings, database_url=pooled_database_url))
    yield client
    client.close()


def test_the_scripted_session_answers_as_on_a_direct_connection(pooled, frontend_factory):
    direct = frontend_factory(pooled.name)
    assert normalized(pooled, *run_script(pooled)) == normalized(direct, *run_script(direct))


def test_every_route_keeps_working_past_the_prepare_threshold(pooled):
    user = User(new_user_id())
    ids = [create_task(pooled, user, title=f"task {n}")["id"] for n in range(8)]
    for task_id in ids:
        assert request(pooled, "GET", user.task(task_id), headers=user.headers).status == 200
        assert request(pooled, "PUT", user.task(task_id), headers=user.headers, json={"priority": "high"}).status == 200
        assert request(pooled, "PATCH", user.task(task_id, "/complete"), headers=user.headers).status == 200
        assert request(pooled, "GET", f"{user.tasks}?status=completed", headers=user.headers).status == 200
        assert request(pooled, "GET", user.stats, headers=user.headers).status == 200
    for task_id in ids:
        assert request(pooled, "DELETE", user.task(task_id), headers=user.headers).status == 204
    assert request(pooled, "GET", user.tasks, headers=user.headers).json() == []


def test_a_concurrent_burst_of_mixed_requests_has_no_5xx(pooled):
    users = [User(new_user_id()) for _ in range(4)]
    tasks = {user.id: [create_task(pooled, user)["id"] for _ in range(3)] for user in users}
    rng = random.Random(5)
    calls: list[Call] = []
    for _ in range(240):
        user = rng.choice(users)
        task_id = rng.choice(tasks[user.id])
        method, path, body = rng.choice([
            ("GET", user.tasks, None),
            ("GET", f"{user.tasks}?sort_by=priority&search=task", None),
            ("GET", user.stats, None),
            ("GET", user.task(task_id), None),
            ("PATCH", user.task(task_id, "/complete"), None),
            ("PUT", user.task(task_id), {"title": "renamed"}),
            ("POST", user.tasks, {"title": "burst", "priority": "low", "category": "home"}),
        ])
        calls.append(make_call(method, path, user.headers, body, None))
    results = pooled.many(calls)
    assert sorted({r.status for r in results}) <= [200, 201]
    for user in users:  # and the counters behind stats still agree with the rows
        listed = request(pooled, "GET", user.tasks, headers=user.headers).json()
        stats = request(pooled, "GET", user.stats, headers=user.headers).json()
        assert stats["total"] == len(listed)
        assert stats["completed"] == sum(task["completed"] for task in listed)
