"""The change feed: what changed in a user's tasks after a revision the client holds.

A client lists its tasks once, keeps the answer's revision, and later asks
`GET /api/{user_id}/changes?since=<revision>`: the tasks created or changed since (their
full JSON, as the list renders it), the ids deleted since, and the revision the answer
brings it to. Applying them in order gives the server's list. Changes come in revision
order, `limit` at a time; while more follow, the answer's `Link` names the next page.

Deletions are kept as tombstones for DELETIONS_KEPT_SECONDS and at most
DELETIONS_KEPT_PER_USER per user; a `since` older than what is kept (or newer than any
revision the server gave) answers 410: the client starts over with `since=0`, which
always answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import attrs

from core.errors import ApiError, FieldProblem, ValidationFailed
from core.http import Response, raw_json_response
from core.listing import PAGE_MAX, given_more_than_once, parse_query_string, whole_number
from core.pages import user_path

SINCE_MAX = 2**63 - 1
"""The largest revision PostgreSQL's bigint holds."""


@attrs.frozen(slots=True)
class FeedQuery:
    since: int = 0
    """0: from the start (every task the user has, no deletion)."""
    limit: int = PAGE_MAX


def parse_feed_query(query_string: bytes, max_items: int) -> FeedQuery:
    """`since` (a revision) and `limit` (1 to PAGE_MAX, as the list's; `max_items` when
    absent); other parameters are ignored."""
    params = parse_query_string(query_string)
    problems: list[FieldProblem] = []
    chosen: dict[str, int] = {}
    bounds = {"since": (0, SINCE_MAX), "limit": (1, PAGE_MAX)}
    for name, (low, high) in bounds.items():
        values = params.get(name, [])
        if len(values) > 1:
            problems.append(given_more_than_once(name))
        elif values:
            number = whole_number(name, values[0], low, high)
            if isinstance(number, FieldProblem):
                problems.append(number)
            else:
                chosen[name] = number
    if problems:
        raise ValidationFailed(problems)
    return FeedQuery(chosen.get("since", 0), chosen.get("limit", max_items))


def gone(since: int, kept_since: int, current: int) -> ApiError:
    if since > current:
        detail = f"Revision {since} is ahead of this user's {current}: reload the list"
    else:
        detail = f"Changes before revision {kept_since} are no longer kept: reload the list"
    return ApiError(410, detail)


def feed_link(base_path: str, user_id: str, since: int, limit: int) -> str:
    query = urlencode([("since", since), ("limit", limit)])
    return f'<{user_path(base_path, user_id, "changes")}?{query}>; rel="next"'


def feed_response(rows: Sequence[tuple[Any, ...]], query: FeedQuery,
                  next_page: Callable[[int], str]) -> Response:
    """The answer from the feed's rows: (current revision, kept since, change's revision,
    deleted, body), one row per change, or one row of Nones past the first two when none.
    `next_page(since)` is the `Link` of the page after a cut one."""
    current, kept_since = rows[0][0], rows[0][1]
    if 0 < query.since < kept_since or query.since > current:  # since=0: the client holds nothing
        raise gone(query.since, kept_since, current)
    changes = [row for row in rows if row[2] is not None]
    headers: tuple[tuple[str, str], ...] = ()
    revision = current
    if len(changes) > query.limit:
        changes = changes[:query.limit]
        revision = changes[-1][2]
        headers = (("Link", next_page(revision)),)
    tasks = ",".join(body for _, _, _, deleted, body in changes if not deleted)
    deleted = json.dumps([body for _, _, _, was_deleted, body in changes if was_deleted])
    body = f'{{"revision":{revision},"tasks":[{tasks}],"deleted":{deleted}}}'.encode()
    return raw_json_response(200, body, headers)
