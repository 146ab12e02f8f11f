"""How one server process learns of changes for its event streams, whatever their number.

Each process has one watcher (`storage.watch_sync`, `storage.watch_aio`), never a query
per subscriber. It holds a connection of its own, outside the pool, and either

- `listen`s: migration 0008 notifies every change with its user and revision, delivered
  when the change commits; no statement runs per change. This needs a session of its
  own on the server, which a transaction-mode pooler cannot give; or
- `poll`s: one statement every EVENTS_POLL_INTERVAL_SECONDS reads the revisions of the
  users with streams in this process (`core.queries.revisions_of`), however many streams
  each has. Any connection can run it, a pooler's included.

`auto` listens on a direct connection and polls behind a pooler, told apart as prepared
statements are (`storage.options.behind_a_pooler`). After a lost connection the watcher
reconnects with backoff and reads every subscribed user's revision once: streams stay
open meanwhile (their heartbeats go on) and learn what they missed once it is back.

A stop never waits on a stream. `todo-api serve` names a file in STOP_FILE for its
workers, and creates it as it passes the stop signal on; the watcher looks for it every
STOP_CHECK_SECONDS and then ends every stream, so the server's graceful stop finds no
answer that would never finish. (No server tells an app that it is stopping before its
connections are done, and a worker's signal handlers are its server's.)

This module holds what both watchers share: the board of subscriptions, the choice of
mode and the reconnection's pace.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Generic, Literal, TypeVar

from psycopg.conninfo import conninfo_to_dict

from core.plan import Rows, SubscriberLimit
from core.queries import notified_change
from storage.options import FanoutMode, behind_a_pooler, named

S = TypeVar("S")
Mode = Literal["listen", "poll"]

STOP_FILE = "TODO_API_STOP_FILE"
"""The environment variable `serve` gives its workers: the file whose existence stops streams."""
STOP_CHECK_SECONDS = 0.1
NOTIFIES_WAIT_SECONDS = 1.0
"""In `listen` mode, how long the watcher waits for notifications before it checks
whether it should stop."""
RECONNECT_FIRST_SECONDS = 0.25
RECONNECT_MOST_SECONDS = 5.0
"""The watcher's reconnection attempts back off from the first to the most."""
WATCHER_CONNECTION: dict[str, Any] = {
    "autocommit": True,
    "prepare_threshold": None,  # it may be a pooler's connection
    # A database host that goes silent (no reset) is noticed within about a minute, even
    # in `listen` mode, where the watcher sends nothing while it waits.
    "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
}


def connection_arguments(conninfo: str, connect_timeout: int) -> dict[str, Any]:
    """The watcher's connection: psycopg's `connect` arguments."""
    given = conninfo_to_dict(conninfo)
    timeout = {} if "connect_timeout" in given else {"connect_timeout": connect_timeout}
    return {"conninfo": conninfo, **WATCHER_CONNECTION, **timeout, **named(conninfo)}


def chosen_mode(setting: FanoutMode, reported_pid: int, real_pid: int) -> Mode:
    if setting != "auto":
        return setting
    return "poll" if behind_a_pooler(reported_pid, real_pid) else "listen"


def reconnect_delay(failures: int) -> float:
    return min(RECONNECT_MOST_SECONDS, RECONNECT_FIRST_SECONDS * 2.0 ** max(0, failures - 1))


class Board(Generic[S]):
    """The subscriptions of one process by user, and the newest revision known of each
    user with one. Not locked: the sync watcher holds a lock around each call, the async
    one needs none (one event loop)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[S]] = {}
        self._revisions: dict[str, int] = {}
        self.total = 0

    def join(self, user_id: str, subscription: S, per_user: int, per_worker: int) -> SubscriberLimit | None:
        """Add it, unless the user or the process holds as many as allowed already."""
        if len(self._subscribers.get(user_id, ())) >= per_user:
            return SubscriberLimit("user")
        if self.total >= per_worker:
            return SubscriberLimit("worker")
        self._subscribers.setdefault(user_id, set()).add(subscription)
        self.total += 1
        return None

    def leave(self, user_id: str, subscription: S) -> None:
        held = self._subscribers.get(user_id)
        if held is None or subscription not in held:
            return
        held.discard(subscription)
        self.total -= 1
        if not held:
            del self._subscribers[user_id]
            self._revisions.pop(user_id, None)

    def everyone(self) -> list[S]:
        return [subscription for held in self._subscribers.values() for subscription in held]

    def users(self) -> list[str]:
        return list(self._subscribers)

    def latest(self, user_id: str) -> int:
        """The newest revision seen of the user (0: none yet)."""
        return self._revisions.get(user_id, 0)

    def seen(self, changes: Iterable[tuple[str, int]]) -> list[S]:
        """Record these revisions; the subscriptions whose user's revision moved."""
        woken: list[S] = []
        for user_id, revision in changes:
            held = self._subscribers.get(user_id)
            if held and revision > self._revisions.get(user_id, 0):
                self._revisions[user_id] = revision
                woken.extend(held)
        return woken


def notified(payloads: Iterable[str]) -> list[tuple[str, int]]:
    """The changes in these notifications' payloads (malformed ones skipped)."""
    return [change for change in map(notified_change, payloads) if change is not None]


def revisions(rows: Rows) -> list[tuple[str, int]]:
    return [(str(user_id), int(revision)) for user_id, revision in rows]


def told_to_stop(stop_file: str | None) -> bool:
    return stop_file is not None and os.path.exists(stop_file)
