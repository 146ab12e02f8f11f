"""The event stream's rules without a server (core/events.py) and the board that wakes
streams (storage/fanout.py): what is sent when, with a clock the test moves."""

from __future__ import annotations

import json
import math
import time

import pytest

from core.events import EXPIRED, HEARTBEAT, event_stream, revision_event, subscribe_to_events
from core.http import Request, Response
from core.plan import AwaitRevision, Emit, Query, StorageFailure, Subscribe, SubscriberLimit, advance_stream
from core.queries import notified_change
from core.routes import Context, Limits
from storage.fanout import Board, chosen_mode, reconnect_delay


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Held:
    """A stand-in subscription: counts its closes."""

    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_the_stream_sends_the_revision_then_changes_heartbeats_and_expiry():
    clock, held = Clock(), Held()
    plan = event_stream(held, 5, seconds_left=40, heartbeat=15, clock=clock)
    assert advance_stream(plan, None) == Emit(revision_event(5))
    assert advance_stream(plan, None) == AwaitRevision(held, 5, 15)
    clock.now += 15
    assert advance_stream(plan, 5) == Emit(HEARTBEAT)  # nothing moved for 15 s: a comment
    assert advance_stream(plan, None) == AwaitRevision(held, 5, 15)
    clock.now += 1
    assert advance_stream(plan, 9) == Emit(revision_event(9))  # moved: the newest revision
    assert advance_stream(plan, None) == AwaitRevision(held, 9, 15)
    clock.now += 4
    assert advance_stream(plan, 9) == AwaitRevision(held, 9, 11)  # woken with nothing new: waits on
    clock.now += 11
    assert advance_stream(plan, 9) == Emit(HEARTBEAT)
    assert advance_stream(plan, None) == AwaitRevision(held, 9, 9)  # no wait past the token's end
    clock.now += 9
    assert advance_stream(plan, 9) == Emit(EXPIRED)  # no heartbeat when the time is up
    assert advance_stream(plan, None) is None


def test_a_stopping_server_ends_the_stream_without_a_word():
    held = Held()
    plan = event_stream(held, 5, seconds_left=40, heartbeat=15, clock=Clock())
    advance_stream(plan, None)
    advance_stream(plan, None)
    assert advance_stream(plan, None) is None


def test_a_token_already_at_its_end_gets_the_revision_and_expired():
    held = Held()
    plan = event_stream(held, 3, seconds_left=-1, heartbeat=15, clock=Clock())
    assert [advance_stream(plan, None) for _ in range(3)] == [Emit(revision_event(3)), Emit(EXPIRED), None]


def test_without_an_expiry_the_stream_waits_a_heartbeat_at_a_time():
    held = Held()
    plan = event_stream(held, 0, seconds_left=math.inf, heartbeat=15, clock=Clock())
    advance_stream(plan, None)
    assert advance_stream(plan, None) == AwaitRevision(held, 0, 15)


def test_an_event_is_an_id_a_name_and_json():
    assert revision_event(42) == b'id: 42\nevent: revision\ndata: {"revision":42}\n\n'
    assert json.loads(EXPIRED.split(b"data: ")[1])["detail"].startswith("Token expired")
    assert HEARTBEAT.startswith(b":") and HEARTBEAT.endswith(b"\n\n")


def context(method: str = "GET") -> Context:
    limits = Limits(events_per_user_max=2, events_per_worker_max=7, events_heartbeat_seconds=3)
    return Context(Request(method, "/api/u/events"), {"user_id": "u"}, "u", limits, token_expires_at=time.time() + 60)


def test_subscribing_comes_before_the_revision_is_read():
    plan, held = subscribe_to_events(context()), Held()
    assert next(plan) == Subscribe("u", 2, 7)
    query = plan.send(held)
    assert isinstance(query, Query) and "task_revisions" in query.sql and query.params == ("u",)
    with pytest.raises(StopIteration) as done:
        plan.send([(12,)])
    response: Response = done.value.value
    assert response.status == 200 and response.stream is not None and response.stream.subscription is held
    assert next(response.stream.plan) == Emit(revision_event(12))
    assert held.closed == 0


@pytest.mark.parametrize("per", ["user", "worker"])
def test_past_a_limit_503_with_retry_after(per):
    plan = subscribe_to_events(context())
    next(plan)
    with pytest.raises(Exception) as refused:
        plan.send(SubscriberLimit(per))  # type: ignore[arg-type]
    error = refused.value
    assert error.status == 503 and ("Retry-After", "5") in error.headers  # type: ignore[attr-defined]


def test_a_failed_read_closes_the_subscription():
    plan, held = subscribe_to_events(context()), Held()
    next(plan)
    plan.send(held)
    with pytest.raises(StorageFailure):
        plan.throw(StorageFailure(unavailable=True))
    assert held.closed == 1


def test_head_subscribes_to_nothing():
    with pytest.raises(StopIteration) as done:
        next(subscribe_to_events(context("HEAD")))
    assert done.value.value.stream is None


def test_the_board_keeps_each_limit_and_wakes_only_the_users_streams():
    board: Board[str] = Board()
    assert board.join("a", "a1", per_user=2, per_worker=3) is None
    assert board.join("a", "a2", per_user=2, per_worker=3) is None
    assert board.join("a", "a3", per_user=2, per_worker=3) == SubscriberLimit("user")
    assert board.join("b", "b1", per_user=2, per_worker=3) is None
    assert board.join("c", "c1", per_user=2, per_worker=3) == SubscriberLimit("worker")
    assert sorted(board.users()) == ["a", "b"]
    assert sorted(board.seen([("a", 4), ("c", 9)])) == ["a1", "a2"]
    assert board.seen([("a", 3), ("a", 4)]) == []  # an older or the same revision wakes nobody
    assert board.latest("a") == 4 and board.latest("c") == 0
    board.leave("a", "a1")
    board.leave("a", "a1")  # twice is once
    assert board.total == 2 and board.join("c", "c1", per_user=2, per_worker=3) is None
    board.leave("a", "a2")
    assert board.latest("a") == 0 and "a" not in board.users()  # the last one out forgets the user


def test_a_notification_names_the_revision_then_the_user():
    assert notified_change("17 user with spaces") == ("user with spaces", 17)
    for malformed in ("", "17", "x user", "-1 user", "17 "):
        assert notified_change(malformed) is None


def test_auto_listens_on_a_direct_connection_and_polls_behind_a_pooler():
    assert chosen_mode("auto", 10, 10) == "listen"
    assert chosen_mode("auto", 10, 11) == "poll"
    assert chosen_mode("poll", 10, 10) == "poll" and chosen_mode("listen", 10, 11) == "listen"


def test_reconnecting_backs_off_to_a_cap():
    delays = [reconnect_delay(failures) for failures in range(1, 10)]
    assert delays[0] == 0.25 and delays == sorted(delays) and max(delays) == 5.0
