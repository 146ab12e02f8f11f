"""ETags and preconditions on a task (RFC 9110 sections 8.8.3 and 13), on every frontend."""

from __future__ import annotations

import pytest

from tests.api.clients import create_task, make_call, request

MISSING = "00000000-0000-4000-8000-000000000000"


def etag_of(client, user, task_id):
    got = request(client, "GET", user.task(task_id), headers=user.headers)
    assert got.status == 200
    return got.header("etag")


def test_every_answer_with_a_task_carries_an_etag_that_follows_the_task(client, user):
    created = request(client, "POST", user.tasks, headers=user.headers,
                      json={"title": "t", "priority": "low", "category": "work"})
    task_id = created.json()["id"]
    first = created.header("etag")
    assert first and first.startswith('"') and first.endswith('"')
    assert etag_of(client, user, task_id) == first
    updated = request(client, "PUT", user.task(task_id), headers=user.headers, json={"title": "u"})
    assert updated.header("etag") not in (None, first)
    assert etag_of(client, user, task_id) == updated.header("etag")
    toggled = request(client, "PATCH", user.task(task_id, "/complete"), headers=user.headers)
    assert toggled.header("etag") not in (None, updated.header("etag"))
    assert etag_of(client, user, task_id) == toggled.header("etag")


@pytest.mark.parametrize("form", ["{tag}", "W/{tag}", '"other", {tag}', "*"])
def test_if_none_match_with_the_current_tag_is_304_without_a_body(client, user, form):
    task = create_task(client, user)
    etag = etag_of(client, user, task["id"])
    result = request(client, "GET", user.task(task["id"]), headers={**user.headers,
                                                                   "If-None-Match": form.format(tag=etag)})
    assert (result.status, result.body, result.header("etag")) == (304, b"", etag)
    assert result.header("content-length") is None


def test_if_none_match_with_an_old_tag_gets_the_task(client, user):
    task = create_task(client, user)
    old = etag_of(client, user, task["id"])
    request(client, "PUT", user.task(task["id"]), headers=user.headers, json={"title": "changed"})
    result = request(client, "GET", user.task(task["id"]), headers={**user.headers, "If-None-Match": old})
    assert (result.status, result.json()["title"]) == (200, "changed")


@pytest.mark.parametrize("method, suffix, body", [("PUT", "", {"title": "x"}), ("PATCH", "/complete", None),
                                                  ("DELETE", "", None)])
def test_if_match_with_a_stale_tag_is_412_and_changes_nothing(client, user, method, suffix, body):
    task = create_task(client, user)
    stale = etag_of(client, user, task["id"])
    request(client, "PUT", user.task(task["id"]), headers=user.headers, json={"description": "moved on"})
    current = request(client, "GET", user.task(task["id"]), headers=user.headers)
    for tag in (stale, "W/" + current.header("etag"), "not a tag", '"nope"'):
        refused = request(client, method, user.task(task["id"], suffix), headers={**user.headers, "If-Match": tag},
                          json=body)
        assert refused.status == 412, tag
        assert refused.json() == {"detail": "The task has changed since that ETag: fetch it and try again"}
    assert request(client, "GET", user.task(task["id"]), headers=user.headers).body == current.body


@pytest.mark.parametrize("method, suffix, body, status", [("PUT", "", {"title": "x"}, 200),
                                                          ("PATCH", "/complete", None, 200), ("DELETE", "", None, 204)])
def test_if_match_with_the_current_tag_or_a_star_writes(client, user, method, suffix, body, status):
    for tag in ("current", "*"):
        task = create_task(client, user)
        value = etag_of(client, user, task["id"]) if tag == "current" else "*"
        result = request(client, method, user.task(task["id"], suffix), headers={**user.headers, "If-Match": value},
                         json=body)
        assert result.status == status, tag
    gone = request(client, "PUT", user.task(MISSING), headers={**user.headers, "If-Match": "*"}, json={"title": "x"})
    assert gone.status == 404


def test_two_tabs_updating_with_one_etag_one_wins_the_other_gets_412(client, user):
    task = create_task(client, user)
    etag = etag_of(client, user, task["id"])
    headers = {**user.headers, "If-Match": etag}
    calls = [make_call("PUT", user.task(task["id"]), headers, {"title": f"tab {n}"}, None) for n in range(6)]
    statuses = sorted(result.status for result in client.many(calls))
    assert statuses == [200] + [412] * 5


def test_require_if_match_answers_428_without_it(client, user, frontend_factory):
    strict = frontend_factory(client.name, require_if_match=True)
    task = create_task(strict, user)
    for method, suffix, body in [("PUT", "", {"title": "x"}), ("PATCH", "/complete", None), ("DELETE", "", None)]:
        refused = request(strict, method, user.task(task["id"], suffix), headers=user.headers, json=body)
        assert refused.status == 428, method
    etag = etag_of(strict, user, task["id"])
    allowed = request(strict, "PUT", user.task(task["id"]), headers={**user.headers, "If-Match": etag},
                      json={"title": "x"})
    assert allowed.status == 200


def test_complete_with_a_state_sets_it_and_repeating_changes_nothing(client, user):
    task = create_task(client, user)
    done = request(client, "PATCH", user.task(task["id"], "/complete"), headers=user.headers,
                   json={"completed": True})
    assert (done.status, done.json()["status"], done.json()["completed"]) == (200, "completed", True)
    again = request(client, "PATCH", user.task(task["id"], "/complete"), headers=user.headers,
                    json={"completed": True})
    assert again.body == done.body and again.header("etag") == done.header("etag")  # updatedAt unmoved
    undone = request(client, "PATCH", user.task(task["id"], "/complete"), headers=user.headers,
                     json={"completed": False})
    assert undone.json()["status"] == "pending" and undone.json()["updatedAt"] > done.json()["updatedAt"]


def test_complete_without_a_body_or_with_an_empty_object_toggles(client, user):
    task = create_task(client, user)
    first = request(client, "PATCH", user.task(task["id"], "/complete"), headers=user.headers)
    second = request(client, "PATCH", user.task(task["id"], "/complete"), headers=user.headers, json={})
    assert (first.json()["completed"], second.json()["completed"]) == (True, False)


@pytest.mark.parametrize("body", [b'{"completed": "yes"}', b'{"completed": 1}', b'{"completed": null}',
                                  b'{"done": true}', b"[]", b"true", b"{nope"])
def test_complete_with_anything_else_is_422_and_changes_nothing(client, user, body):
    task = create_task(client, user)
    refused = request(client, "PATCH", user.task(task["id"], "/complete"), headers=user.headers, body=body)
    assert refused.status == 422
    assert request(client, "GET", user.task(task["id"]), headers=user.headers).json() == task


def test_setting_the_state_respects_if_match(client, user):
    task = create_task(client, user)
    stale = etag_of(client, user, task["id"])
    request(client, "PUT", user.task(task["id"]), headers=user.headers, json={"title": "moved on"})
    refused = request(client, "PATCH", user.task(task["id"], "/complete"), headers={**user.headers, "If-Match": stale},
                      json={"completed": False})
    assert refused.status == 412
