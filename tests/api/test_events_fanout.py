"""How a process learns of changes for its streams (storage/fanout.py), on every client:
polling through a real PgBouncer in transaction mode, where LISTEN cannot work; and a
database that goes away and comes back, while the streams stay open."""

from __future__ import annotations

import re
import time

import psycopg

from tests.api.clients import ApiClient, create_task, request
from tests.api.streams import open_events
from tests.api.test_events import events_path, revision_of


def metric(client: ApiClient, name: str) -> float:
    text = request(client, "GET", "/metrics").body.decode()
    found = re.search(rf"^{name} ([0-9.]+)$", text, re.MULTILINE)
    assert found, text
    return float(found.group(1))


def test_behind_a_transaction_pooler_the_watcher_polls(client, frontend_factory, pooled_database_url, user):
    pooled = frontend_factory(client.name, database_url=pooled_database_url, events_poll_interval_seconds=0.05)
    stream = open_events(pooled, events_path(user), user.headers)
    try:
        assert revision_of(stream.next()) == 0
        for _ in range(3):  # each change arrives, one poll or so after its commit
            create_task(pooled, user)
            revision = revision_of(stream.next(5))
            assert revision == request(pooled, "GET", f"/api/{user.id}/changes", headers=user.headers).json()[
                "revision"]
        assert metric(pooled, "todo_api_event_watchers_polling") >= 1
        before = metric(pooled, "todo_api_event_fanout_statements_total")
        time.sleep(0.5)
        assert metric(pooled, "todo_api_event_fanout_statements_total") > before  # it polls on its own
    finally:
        stream.close()


def test_streams_outlive_the_database_and_hear_what_they_missed(client, frontend_factory, own_postgres, user):
    steady = frontend_factory(client.name, database_url=own_postgres.url(), events_heartbeat_seconds=0.2)
    stream = open_events(steady, events_path(user), user.headers)
    try:
        assert revision_of(stream.next()) == 0
        own_postgres.stop()
        beats = [stream.next(3, comments=True) for _ in range(5)]  # the stream goes on: heartbeats
        assert all(beat is not None and beat.comment == "keep-alive" for beat in beats), beats
        own_postgres.start()
        with psycopg.connect(own_postgres.url(), autocommit=True) as conn:  # a change made elsewhere
            conn.execute(
                'INSERT INTO tasks ("userId", title, priority, category) VALUES (%s, %s, %s, %s)',
                (user.id, "written while the watcher was away", "low", "work"))
            (written,) = conn.execute(
                'SELECT revision FROM task_revisions WHERE "userId" = %s', (user.id,)).fetchone()
        event = stream.next(15, comments=False)  # the watcher reconnects and catches up
        assert revision_of(event) == written
        created = create_task(steady, user)  # and hears the next one as before
        assert revision_of(stream.next(5)) > written
        assert request(steady, "GET", user.task(created["id"]), headers=user.headers).status == 200
    finally:
        stream.close()
