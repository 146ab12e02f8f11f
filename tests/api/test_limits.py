"""Per-user limits: MAX_TASKS_PER_USER holds exactly, even under concurrent creates, and no
list answer holds more than LIST_MAX_ITEMS tasks."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest

from tests.api.clients import ApiClient, Call, create_task, make_client, request
from tests.api.conftest import FRONTENDS, User
from todo_api.config.settings import Settings

MAX_TASKS = 5
LIST_MAX = 3
BODY = b'{"title": "t", "priority": "low", "category": "home"}'


@pytest.fixture(scope="module", params=FRONTENDS)
def limited(request: pytest.FixtureRequest, settings: Settings) -> Iterator[ApiClient]:
    made = make_client(request.param, attrs.evolve(settings, max_tasks_per_user=MAX_TASKS,
                                                   list_max_items=LIST_MAX))
    yield made
    made.close()


def total(client: ApiClient, user: User) -> int:
    return request(client, "GET", f"/api/{user.id}/stats", headers=user.headers).json()["total"]


def test_a_create_past_the_limit_is_409_and_stores_nothing(limited, user):
    for _ in range(MAX_TASKS):
        create_task(limited, user)
    refused = request(limited, "POST", user.tasks, headers=user.headers, body=BODY)
    assert refused.status == 409
    assert refused.json() == {"detail": f"Task limit reached: a user can have at most {MAX_TASKS} tasks"}
    assert total(limited, user) == MAX_TASKS


def test_deleting_a_task_frees_its_slot(limited, user):
    ids = [create_task(limited, user)["id"] for _ in range(MAX_TASKS)]
    assert request(limited, "DELETE", user.task(ids[0]), headers=user.headers).status == 204
    assert request(limited, "POST", user.tasks, headers=user.headers, body=BODY).status == 201
    assert request(limited, "POST", user.tasks, headers=user.headers, body=BODY).status == 409


def test_concurrent_creates_never_pass_the_limit(limited, user):
    results = limited.many([Call("POST", user.tasks, user.headers, BODY)] * 24)
    assert sorted(r.status for r in results) == [201] * MAX_TASKS + [409] * (24 - MAX_TASKS)
    assert total(limited, user) == MAX_TASKS


def test_the_limit_is_per_user(limited, user):
    for _ in range(MAX_TASKS):
        create_task(limited, user)
    other = User(user.id + "-other")
    assert request(limited, "POST", other.tasks, headers=other.headers, body=BODY).status == 201


def test_a_list_holds_at_most_list_max_items_and_says_when_it_was_cut(limited, user):
    created = [create_task(limited, user, title=f"task {n}")["id"] for n in range(LIST_MAX)]
    full = request(limited, "GET", user.tasks, headers=user.headers)
    assert len(full.json()) == LIST_MAX and full.header("x-truncated") is None
    create_task(limited, user, title="one more")
    cut = request(limited, "GET", user.tasks + "?sort_by=createdAt&sort_order=asc", headers=user.headers)
    assert [t["id"] for t in cut.json()] == created
    assert cut.header("x-truncated") == "true"
