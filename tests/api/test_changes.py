"""The change feed on every frontend: a client that applies what `/changes` answers holds
the server's list, page after page, whatever the order of writes and reads."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.api.clients import create_task, request
from tests.api.conftest import User
from tests.helpers import new_user_id


def changes(client, user, since=0, limit=None, status=200):
    query = f"?since={since}" + (f"&limit={limit}" if limit else "")
    answer = request(client, "GET", f"/api/{user.id}/changes{query}", headers=user.headers)
    assert answer.status == status, answer.body
    return answer


def server_list(client, user) -> dict[str, Any]:
    return {task["id"]: task for task in request(client, "GET", user.tasks, headers=user.headers).json()}


class Replica:
    """What a client keeps: the tasks by id, and the revision they are at."""

    def __init__(self) -> None:
        self.tasks: dict[str, Any] = {}
        self.revision = 0

    def sync(self, client, user, limit=None) -> int:
        """Follow the feed to its end; the number of pages it took."""
        pages = 0
        while True:
            answer = changes(client, user, self.revision, limit)
            body = answer.json()
            for task in body["tasks"]:
                self.tasks[task["id"]] = task
            for task_id in body["deleted"]:
                self.tasks.pop(task_id, None)
            assert body["revision"] >= self.revision
            self.revision = body["revision"]
            pages += 1
            if answer.header("link") is None:
                return pages


def test_a_full_sync_then_each_kind_of_change(client, user):
    first, second = create_task(client, user, title="one"), create_task(client, user, title="two")
    replica = Replica()
    replica.sync(client, user)
    assert replica.tasks == server_list(client, user) and len(replica.tasks) == 2
    request(client, "PUT", user.task(first["id"]), headers=user.headers, json={"title": "one, edited"})
    request(client, "PATCH", user.task(second["id"], "/complete"), headers=user.headers)
    third = create_task(client, user, title="three")
    request(client, "DELETE", user.task(first["id"]), headers=user.headers)
    body = changes(client, user, replica.revision).json()
    assert [task["id"] for task in body["tasks"]] == [second["id"], third["id"]]
    assert body["deleted"] == [first["id"]]
    replica.sync(client, user)
    assert replica.tasks == server_list(client, user)


def test_nothing_new_is_an_empty_answer_at_the_same_revision(client, user):
    create_task(client, user)
    current = changes(client, user).json()["revision"]
    assert changes(client, user, current).json() == {"revision": current, "tasks": [], "deleted": []}


def test_a_new_user_starts_at_revision_zero(client, user):
    assert changes(client, user).json() == {"revision": 0, "tasks": [], "deleted": []}


def test_pages_come_in_revision_order_with_a_link_to_the_next(client, user):
    made = [create_task(client, user, title=f"t{n}")["id"] for n in range(5)]
    page = changes(client, user, 0, limit=2)
    assert [task["id"] for task in page.json()["tasks"]] == made[:2]
    link = page.header("link")
    assert link is not None and link.endswith('>; rel="next"')
    next_path = link[1:link.index(">")]
    assert f"since={page.json()['revision']}" in next_path and "limit=2" in next_path
    replica = Replica()
    assert replica.sync(client, user, limit=2) == 3
    assert list(replica.tasks) == made


def test_a_revision_ahead_of_the_server_is_410(client, user):
    create_task(client, user)
    current = changes(client, user).json()["revision"]
    assert "reload" in changes(client, user, current + 1, status=410).json()["detail"]


def test_deletions_past_the_kept_count_send_a_client_behind_them_to_reload(frontend_factory, client):
    kept_one = frontend_factory(client.name, deletions_kept_per_user=1)
    user = User(new_user_id())
    ids = [create_task(kept_one, user)["id"] for _ in range(3)]
    before = changes(kept_one, user).json()["revision"]
    for task_id in ids:
        assert request(kept_one, "DELETE", user.task(task_id), headers=user.headers).status == 204
    assert "no longer kept" in changes(kept_one, user, before, status=410).json()["detail"]
    replica = Replica()  # a fresh client starts over and is complete
    replica.sync(kept_one, user)
    assert replica.tasks == {}


@pytest.mark.parametrize("query", ["since=-1", "since=x", "since=1&since=2", "limit=0", "limit=1001",
                                   "since=99999999999999999999"])
def test_a_bad_parameter_is_a_located_422(client, user, query):
    answer = request(client, "GET", f"/api/{user.id}/changes?{query}", headers=user.headers)
    assert answer.status == 422
    assert answer.json()["detail"][0]["loc"][0] == "query"


def test_another_users_changes_are_not_in_the_feed_nor_theirs_reachable(client, user):
    other = User(new_user_id())
    create_task(client, other)
    assert changes(client, user).json()["tasks"] == []
    stranger = request(client, "GET", f"/api/{other.id}/changes", headers=user.headers)
    assert stranger.status == 403


@pytest.mark.parametrize("seed", range(3))
def test_any_interleaving_of_writes_and_reads_leaves_the_replica_equal_to_the_list(client, user, seed):
    rng = random.Random(seed)
    replica = Replica()
    for _ in range(40):
        live = list(server_list(client, user))
        action = rng.choice(["create", "create", "update", "toggle", "delete", "sync", "page"])
        if action == "create" or not live and action in ("update", "toggle", "delete"):
            create_task(client, user, title=f"t{rng.randrange(1000)}")
        elif action == "update":
            request(client, "PUT", user.task(rng.choice(live)), headers=user.headers,
                    json={"title": f"u{rng.randrange(1000)}"})
        elif action == "toggle":
            request(client, "PATCH", user.task(rng.choice(live), "/complete"), headers=user.headers)
        elif action == "delete":
            request(client, "DELETE", user.task(rng.choice(live)), headers=user.headers)
        elif action == "sync":
            replica.sync(client, user, limit=rng.choice([None, 1, 3]))
        else:  # one page only: the replica is behind, at a consistent point
            body = changes(client, user, replica.revision, limit=rng.choice([1, 2])).json()
            for task in body["tasks"]:
                replica.tasks[task["id"]] = task
            for task_id in body["deleted"]:
                replica.tasks.pop(task_id, None)
            replica.revision = body["revision"]
    replica.sync(client, user)
    assert replica.tasks == server_list(client, user)
