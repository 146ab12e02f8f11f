"""One function per endpoint. Database work is asked for with `rows = yield from query`.

Every task statement carries the authenticated user's id, so a task id that belongs to
someone else finds nothing and answers 404, exactly like an id that does not exist.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from core import queries
from core.changes import feed_link, feed_response, parse_feed_query
from core.errors import STOPPING, TASK_NOT_FOUND, ApiError, not_found
from core.http import Response, json_response, raw_json_response
from core.idempotency import UNIQUE_VIOLATION, body_digest, idempotency_key, reused_with_another_body
from core.listing import parse_list_options
from core.pages import decode_cursor, encode_cursor, next_link, user_path
from core.plan import Plan, StorageFailure
from core.preconditions import changed_since, if_match_tags, none_match, task_etag
from core.reads import fresh_rows, primary_revision
from core.routes import Context
from core.tasks import validate_completion, validate_create, validate_update
from core.version import __version__


def rfc3339_now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def parse_task_id(text: str) -> UUID:
    """Only the canonical 8-4-4-4-12 form names a task; anything else is a 404.

    `UUID()` alone would also take braces, `urn:uuid:`, hyphens anywhere and `_` between
    digits: several spellings of one task, which caches and logs would tell apart.
    """
    if not CANONICAL_UUID.fullmatch(text):
        raise not_found(TASK_NOT_FOUND)
    return UUID(text)


def task_response(task_json: str, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """A task's JSON with its ETag."""
    body = task_json.encode()
    return raw_json_response(status, body, (("ETag", task_etag(body)), *headers))


def written(rows: list[tuple[Any, ...]], tags: list[str] | None) -> Any:
    """What a write of one task returned (`queries.guarded`), or 404, or 412 when the
    task exists but not with a tag `If-Match` allowed."""
    if tags is None:
        if not rows:
            raise not_found(TASK_NOT_FOUND)
        return rows[0][0]
    value, exists = rows[0]
    if value is None:
        raise changed_since() if exists else not_found(TASK_NOT_FOUND)
    return value


def root(ctx: Context) -> Response:
    return json_response(200, {"message": "Todo API", "version": __version__})


def health(ctx: Context) -> Response:
    """Liveness only: answers without touching the database."""
    return json_response(200, {"status": "healthy", "timestamp": rfc3339_now()})


def ready(ctx: Context) -> Plan:
    """503 while the database is unreachable, or once this process has begun to stop (a load
    balancer then sends its requests elsewhere during `DRAIN_SECONDS`)."""
    if ctx.stopping:
        raise STOPPING
    yield from queries.READY
    return json_response(200, {"status": "ready"})


def list_etag(revision: int, max_items: int) -> str:
    """The list's version: the user's revision (any parameters: each URL is its own resource)."""
    return f'"r{revision}-{max_items}"'


def list_tasks(ctx: Context) -> Plan:
    """A page of `limit` tasks (without one: at most LIST_MAX_ITEMS, and `X-Truncated`
    when cut), with a `Link` to the next page while more follow. A poll whose
    `If-None-Match` holds the current ETag gets a 304 from the user's revision alone."""
    options = parse_list_options(ctx.request.query_string)
    max_items = ctx.limits.list_max_items
    page_size = options.limit or max_items
    after = decode_cursor(options.cursor, ctx.user_id, options) if options.cursor else None
    condition = ctx.request.headers.get("if-none-match")
    wanted = None
    if condition is not None or ctx.limits.read_replica:
        wanted = yield from primary_revision(ctx)
        etag = list_etag(wanted, max_items)
        if condition is not None and none_match(condition, etag):
            return Response(304, (("ETag", etag),))
    rows = yield from fresh_rows(ctx, queries.list_tasks(ctx.user_id, options, page_size, after), wanted)
    tasks = [task for _, task in rows]
    revision = rows[0][0] if rows else (wanted if wanted is not None else (yield from primary_revision(ctx)))
    headers: tuple[tuple[str, str], ...] = (("ETag", list_etag(revision, max_items)),)
    if len(tasks) > page_size:
        tasks = tasks[:page_size]
        cursor = encode_cursor(ctx.user_id, options, json.loads(tasks[-1]))
        link = next_link(ctx.request.base_path, ctx.params["user_id"], options, page_size, cursor)
        headers += (("Link", link),) if options.limit else (("Link", link), ("X-Truncated", "true"))
    body = b"[" + ",".join(tasks).encode() + b"]"
    return raw_json_response(200, body, headers)


def create_task(ctx: Context) -> Plan:
    """201 with the task, its Location and ETag. Under an `Idempotency-Key`, a retry gets
    that first answer again and creates nothing (`core.idempotency`)."""
    values = validate_create(ctx.body)
    key = idempotency_key(ctx.request.headers)
    if key is None:
        rows = yield from queries.create_task(ctx.user_id, values, ctx.limits.max_tasks_per_user)
        return created(rows, ctx)
    return (yield from create_once(ctx, values, key, body_digest(ctx.body), retried=False))


def create_once(ctx: Context, values: dict[str, Any], key: str, digest: str, retried: bool) -> Plan:
    ttl, max_tasks = ctx.limits.idempotency_key_ttl_seconds, ctx.limits.max_tasks_per_user
    try:
        rows = yield from queries.create_task_once(ctx.user_id, values, max_tasks, key, digest, ttl)
    except StorageFailure as failure:
        if failure.sqlstate != UNIQUE_VIOLATION:
            raise
        stored = yield from queries.stored_answer(ctx.user_id, key, ttl)
        if not stored or stored[0][3]:  # gone since, or expired: the key is free again
            if retried:
                raise ApiError(409, "Another request is using this Idempotency-Key: try again") from None
            yield from queries.forget_key(ctx.user_id, key)
            return (yield from create_once(ctx, values, key, digest, retried=True))
        first_digest, task_id, task_json, _ = stored[0]
        if first_digest != digest:
            raise reused_with_another_body() from None
        return created([(task_id, task_json)], ctx)
    return created(rows, ctx)


def created(rows: list[tuple[Any, ...]], ctx: Context) -> Response:
    if not rows:
        max_tasks = ctx.limits.max_tasks_per_user
        raise ApiError(409, f"Task limit reached: a user can have at most {max_tasks} tasks")
    task_id, task_json = rows[0]
    location = user_path(ctx.request.base_path, ctx.params["user_id"], f"tasks/{task_id}")
    return task_response(task_json, 201, (("Location", location),))


def get_task(ctx: Context) -> Plan:
    """304 with the ETag alone when `If-None-Match` holds the task's current one."""
    task_id = parse_task_id(ctx.params["task_id"])
    rows = yield from fresh_rows(ctx, queries.get_task(ctx.user_id, task_id))
    if not rows:
        raise not_found(TASK_NOT_FOUND)
    body = rows[0][0].encode()
    etag = task_etag(body)
    if none_match(ctx.request.headers.get("if-none-match"), etag):
        return Response(304, (("ETag", etag),))
    return raw_json_response(200, body, (("ETag", etag),))


def update_task(ctx: Context) -> Plan:
    task_id = parse_task_id(ctx.params["task_id"])
    tags = if_match_tags(ctx.request.headers, ctx.limits.require_if_match)
    values = validate_update(ctx.body)
    return task_response(written((yield from queries.update_task(ctx.user_id, task_id, values, tags)), tags))


def delete_task(ctx: Context) -> Plan:
    task_id = parse_task_id(ctx.params["task_id"])
    tags = if_match_tags(ctx.request.headers, ctx.limits.require_if_match)
    written((yield from queries.delete_task(ctx.user_id, task_id, tags)), tags)
    kept = queries.DeletionsKept(ctx.limits.deletions_kept_seconds, ctx.limits.deletions_kept_per_user)
    yield from queries.prune_deletions(ctx.user_id, kept)
    return Response(204)


def list_changes(ctx: Context) -> Plan:
    """What changed after `since`, in revision order, a page at a time (`core.changes`)."""
    query = parse_feed_query(ctx.request.query_string, ctx.limits.list_max_items)
    rows = yield from fresh_rows(ctx, queries.changes(ctx.user_id, query.since, query.limit))

    def next_page(since: int) -> str:
        return feed_link(ctx.request.base_path, ctx.params["user_id"], since, query.limit)

    return feed_response(rows, query, next_page)


def toggle_task(ctx: Context) -> Plan:
    """No body (or `{}`) flips the status; `{"completed": true|false}` sets it."""
    task_id = parse_task_id(ctx.params["task_id"])
    tags = if_match_tags(ctx.request.headers, ctx.limits.require_if_match)
    completed = validate_completion(ctx.body)
    if completed is None:
        query = queries.toggle_task(ctx.user_id, task_id, tags)
    else:
        query = queries.set_completion(ctx.user_id, task_id, completed, tags)
    return task_response(written((yield from query), tags))


def task_stats(ctx: Context) -> Plan:
    """Its ETag is the answer's own digest: the stats are one cheap statement over the
    user's counters, and `overdue` moves with the clock, which no revision sees."""
    body = (yield from fresh_rows(ctx, queries.task_stats(ctx.user_id)))[0][0].encode()
    etag = task_etag(body)
    if none_match(ctx.request.headers.get("if-none-match"), etag):
        return Response(304, (("ETag", etag),))
    return raw_json_response(200, body, (("ETag", etag),))

