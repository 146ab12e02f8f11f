"""One function per endpoint. Database work is yielded as a `Query`; the rows come back.

Every task statement carries the authenticated user's id, so a task id that belongs to
someone else finds nothing and answers 404, exactly like an id that does not exist.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote
from uuid import UUID

from core import queries
from core.errors import TASK_NOT_FOUND, ApiError, not_found
from core.http import Response, json_response, raw_json_response
from core.listing import parse_list_options
from core.plan import Plan
from core.routes import Context
from core.tasks import validate_create, validate_update
from core.version import __version__

PATH_SAFE = "-._~!$&'()*+,;=:@"  # RFC 3986 pchar: kept as is in a Location path segment


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


def single_task(rows: list[tuple[str, ...]]) -> Response:
    if not rows:
        raise not_found(TASK_NOT_FOUND)
    return raw_json_response(200, rows[0][-1].encode())


def root(ctx: Context) -> Response:
    return json_response(200, {"message": "Todo API", "version": __version__})


def health(ctx: Context) -> Response:
    """Liveness only: answers without touching the database."""
    return json_response(200, {"status": "healthy", "timestamp": rfc3339_now()})


def ready(ctx: Context) -> Plan:
    yield queries.READY
    return json_response(200, {"status": "ready"})


def list_tasks(ctx: Context) -> Plan:
    """At most LIST_MAX_ITEMS tasks; a cut answer says so in `X-Truncated`."""
    options = parse_list_options(ctx.request.query_string)
    max_items = ctx.limits.list_max_items
    rows = yield queries.list_tasks(ctx.user_id, options, max_items)
    headers = (("X-Truncated", "true"),) if len(rows) > max_items else ()
    body = b"[" + ",".join(row[0] for row in rows[:max_items]).encode() + b"]"
    return raw_json_response(200, body, headers)


def create_task(ctx: Context) -> Plan:
    values = validate_create(ctx.body)
    max_tasks = ctx.limits.max_tasks_per_user
    rows = yield queries.create_task(ctx.user_id, values, max_tasks)
    if not rows:
        raise ApiError(409, f"Task limit reached: a user can have at most {max_tasks} tasks")
    task_id, task_json = rows[0]
    base = quote(ctx.request.base_path, safe="/" + PATH_SAFE)
    location = f"{base}/api/{quote(ctx.params['user_id'], safe=PATH_SAFE)}/tasks/{task_id}"
    return raw_json_response(201, task_json.encode(), (("Location", location),))


def get_task(ctx: Context) -> Plan:
    task_id = parse_task_id(ctx.params["task_id"])
    return single_task((yield queries.get_task(ctx.user_id, task_id)))


def update_task(ctx: Context) -> Plan:
    task_id = parse_task_id(ctx.params["task_id"])
    values = validate_update(ctx.body)
    return single_task((yield queries.update_task(ctx.user_id, task_id, values)))


def delete_task(ctx: Context) -> Plan:
    task_id = parse_task_id(ctx.params["task_id"])
    rows = yield queries.delete_task(ctx.user_id, task_id)
    if not rows:
        raise not_found(TASK_NOT_FOUND)
    return Response(204)


def toggle_task(ctx: Context) -> Plan:
    task_id = parse_task_id(ctx.params["task_id"])
    return single_task((yield queries.toggle_task(ctx.user_id, task_id)))


def task_stats(ctx: Context) -> Plan:
    rows = yield queries.task_stats(ctx.user_id)
    return raw_json_response(200, rows[0][0].encode())

