"""Server-sent events (`GET /api/{user_id}/events`, core/events.py), on every client: the
revision at once and on each change, nothing of another user's, heartbeats, the end at
the token's expiry, the subscriber limits, and what is refused."""

from __future__ import annotations

import json
import time

import pytest

from tests.api.clients import create_task, request
from tests.api.conftest import User
from tests.api.streams import Event, open_events
from tests.helpers import make_token, new_user_id


def events_path(user: User) -> str:
    return f"/api/{user.id}/events"


def revision_of(event: Event | None) -> int:
    assert event is not None and event.event == "revision", event
    revision = json.loads(event.data)["revision"]
    assert event.id == str(revision)
    return int(revision)


def test_the_revision_comes_at_once_then_with_every_change(client, user):
    stream = open_events(client, events_path(user), user.headers)
    try:
        assert stream.status == 200
        assert stream.headers["content-type"] == "text/event-stream"
        assert stream.headers["cache-control"] == "no-store"
        assert "content-length" not in stream.headers
        assert revision_of(stream.next()) == 0
        task = create_task(client, user)
        created = revision_of(stream.next())
        assert created > 0
        changes = request(client, "GET", f"/api/{user.id}/changes?since=0", headers=user.headers).json()
        assert changes["revision"] == created and [t["id"] for t in changes["tasks"]] == [task["id"]]
        request(client, "DELETE", user.task(task["id"]), headers=user.headers)
        deleted = revision_of(stream.next())
        assert deleted > created
        after = request(client, "GET", f"/api/{user.id}/changes?since={created}", headers=user.headers).json()
        assert after == {"revision": deleted, "tasks": [], "deleted": [task["id"]]}
    finally:
        stream.close()


def test_a_reconnecting_client_learns_at_once_that_it_is_behind(client, user):
    create_task(client, user)
    first = request(client, "GET", f"/api/{user.id}/changes", headers=user.headers).json()["revision"]
    create_task(client, user)
    stream = open_events(client, events_path(user), {**user.headers, "Last-Event-ID": str(first)})
    try:
        assert revision_of(stream.next()) > first
    finally:
        stream.close()


def test_another_users_changes_are_never_sent(client, user):
    other = User(new_user_id())
    stream = open_events(client, events_path(user), user.headers)
    try:
        assert revision_of(stream.next()) == 0
        for _ in range(3):
            create_task(client, other)
        create_task(client, user)
        mine = revision_of(stream.next())
        theirs = request(client, "GET", f"/api/{other.id}/changes", headers=other.headers).json()["revision"]
        assert mine > theirs  # the user's own change came, and no event of theirs before it
        assert stream.quiet_for(0.5) == []
    finally:
        stream.close()


def test_streams_of_one_user_all_hear_each_change(client, user):
    streams = [open_events(client, events_path(user), user.headers) for _ in range(3)]
    try:
        assert [revision_of(stream.next()) for stream in streams] == [0, 0, 0]
        create_task(client, user)
        assert len({revision_of(stream.next()) for stream in streams}) == 1
    finally:
        for stream in streams:
            stream.close()


@pytest.fixture
def quick(client, frontend_factory):
    """A client of the same kind, whose streams send a heartbeat every 0.2 s, two per user."""
    return frontend_factory(client.name, events_heartbeat_seconds=0.2, events_per_user_max=2)


def test_an_idle_stream_gets_a_comment_every_heartbeat(quick, user):
    stream = open_events(quick, events_path(user), user.headers)
    try:
        assert revision_of(stream.next()) == 0
        started = time.monotonic()
        beats = [stream.next(2, comments=True) for _ in range(3)]
        assert all(beat is not None and beat.comment == "keep-alive" for beat in beats), beats
        assert time.monotonic() - started < 2  # three within a few heartbeats, not one per 15 s
    finally:
        stream.close()


def test_the_stream_ends_with_an_event_when_the_token_expires(client, user):
    token = make_token(user.id, exp=int(time.time()) + 2)
    stream = open_events(client, events_path(user), {"Authorization": f"Bearer {token}"})
    try:
        assert revision_of(stream.next()) == 0
        last = stream.next(20)
        assert last is not None and last.event == "expired" and "reconnect" in json.loads(last.data)["detail"]
        assert stream.next(5) is None  # and the answer ends
    finally:
        stream.close()


def test_past_the_users_limit_a_503_says_when_to_retry(quick, user):
    held = [open_events(quick, events_path(user), user.headers) for _ in range(2)]
    try:
        refused = request(quick, "GET", events_path(user), headers=user.headers)
        assert refused.status == 503
        assert refused.header("Retry-After") == "5"
        assert "event streams" in refused.json()["detail"]
        other = User(new_user_id())  # the limit is the user's: another user still subscribes
        theirs = open_events(quick, events_path(other), other.headers)
        assert theirs.status == 200
        theirs.close()
        held.pop().close()
        again = open_events(quick, events_path(user), user.headers)  # a closed stream frees its place
        assert again.status == 200
        held.append(again)
    finally:
        for stream in held:
            stream.close()


def test_past_the_workers_limit_every_user_waits(client, frontend_factory, user):
    full = frontend_factory(client.name, events_per_worker_max=1)
    held = open_events(full, events_path(user), user.headers)
    try:
        other = User(new_user_id())
        refused = request(full, "GET", events_path(other), headers=other.headers)
        assert refused.status == 503 and refused.header("Retry-After") == "5"
        assert request(full, "GET", other.stats, headers=other.headers).status == 200  # requests go on
    finally:
        held.close()


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": f"Bearer {make_token('someone', exp=int(time.time()) - 60)}"},
], ids=["no-token", "forged", "expired"])
def test_without_a_valid_bearer_token_401(client, user, headers):
    answer = request(client, "GET", events_path(user), headers=headers)
    assert answer.status == 401 and answer.header("content-type") == "application/json"


def test_a_token_in_the_query_string_is_not_read(client, user):
    token = user.headers["Authorization"].removeprefix("Bearer ")
    for name in ("token", "access_token", "authorization"):
        assert request(client, "GET", f"{events_path(user)}?{name}={token}").status == 401


def test_another_users_stream_is_403(client, user):
    other = User(new_user_id())
    assert request(client, "GET", events_path(other), headers=user.headers).status == 403


def test_head_answers_the_streams_head_without_subscribing(client, frontend_factory, user):
    one = frontend_factory(client.name, events_per_worker_max=1)
    for _ in range(3):  # a HEAD holds no place: the one stream allowed is still free after three
        head = request(one, "HEAD", events_path(user), headers=user.headers)
        assert head.status == 200 and head.body == b""
        assert head.header("content-type") == "text/event-stream"
    stream = open_events(one, events_path(user), user.headers)
    assert stream.status == 200
    stream.close()


def test_post_is_405(client, user):
    answer = request(client, "POST", events_path(user), headers=user.headers, json={})
    assert answer.status == 405 and answer.header("allow") == "GET, HEAD, OPTIONS"
