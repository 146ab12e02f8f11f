"""Keyset pagination of the list: opaque cursors, and where the next page starts.

A cursor holds the last task's sort value and id, and a digest of the query it belongs
to (the user, the filters, the search, the sort). The next page is the tasks after that
position in the same order, so tasks created or deleted between pages never shift it:
no task that existed throughout is skipped or repeated. Every statement is scoped to
the signed-in user, so no cursor, forged or not, reaches another user's tasks; one made
for another user or another query is refused (422), as is one that does not decode.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import attrs

from core.errors import FieldProblem, ValidationFailed
from core.listing import ListOptions
from core.tasks import FIELD, Field

CANONICAL_UUID_LENGTH = 36


@attrs.frozen(slots=True)
class After:
    """Where a page starts: after the task with this sort value (None: no due date) and id."""

    value: str | None
    task_id: str


def query_digest(user_id: str, options: ListOptions) -> str:
    shape = [user_id, list(options.filters), options.search, options.sort_by, options.sort_order]
    text = json.dumps(shape, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8, person=b"todo-cursor")
    return digest.hexdigest()


def encode_cursor(user_id: str, options: ListOptions, last_task: dict[str, Any]) -> str:
    payload = [last_task[options.sort_by], last_task["id"], query_digest(user_id, options)]
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def refused(msg: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem(("query", "cursor"), msg, "cursor_invalid")])


def decode_cursor(cursor: str, user_id: str, options: ListOptions) -> After:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, task_id, digest = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        raise refused("Not a cursor this API made") from None
    field = FIELD[options.sort_by]
    if not (isinstance(task_id, str) and len(task_id) == CANONICAL_UUID_LENGTH and valid_value(field, value)):
        raise refused("Not a cursor this API made")
    if digest != query_digest(user_id, options):
        raise refused("This cursor belongs to another list: keep the filters, search and sort it came with")
    return After(value, task_id)


def valid_value(field: Field, value: Any) -> bool:
    if value is None:
        return field.nullable
    if not isinstance(value, str) or "\x00" in value:
        return False
    if field.enum:
        return value in field.enum
    if field.format == "date-time":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
    return True


PATH_SAFE = "-._~!$&'()*+,;=:@"  # RFC 3986 pchar: kept as is in a path segment


def user_path(base_path: str, user_id: str, rest: str) -> str:
    """The path of something of the user's (`rest`: "tasks", "changes", "tasks/<id>"), as a
    `Location` or `Link` gives it: below where the API is mounted, the user id quoted."""
    return f"{quote(base_path, safe='/' + PATH_SAFE)}/api/{quote(user_id, safe=PATH_SAFE)}/{rest}"


def next_link(base_path: str, user_id: str, options: ListOptions, limit: int, cursor: str) -> str:
    """The `Link` to the next page (RFC 8288): the same filters, search, sort and limit."""
    params: list[tuple[str, str]] = list(options.filters)
    if options.search is not None:
        params.append(("search", options.search))
    params += [("sort_by", options.sort_by), ("sort_order", options.sort_order), ("limit", str(limit)),
               ("cursor", cursor)]
    return f'<{user_path(base_path, user_id, "tasks")}?{urlencode(params)}>; rel="next"'
