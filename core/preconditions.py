"""Entity tags and preconditions on a task (RFC 9110 sections 8.8.3 and 13).

A task's ETag is the MD5 of the JSON the API answers for it, so PostgreSQL can compute
the same tag (`md5(api_json)`) and compare it in the very statement that writes: an
`If-Match` never turns into a read-then-write race.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from core.errors import ApiError

ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')
"""One entity-tag of a list (RFC 9110 section 8.8.3: opaque characters between quotes)."""


def task_etag(task_json: bytes) -> str:
    return f'"{hashlib.md5(task_json, usedforsecurity=False).hexdigest()}"'


def entity_tags(header: str) -> list[tuple[bool, str]] | None:
    """(weak, opaque tag) for each tag of an `If-Match`/`If-None-Match` list; None for
    `*`; an empty list for one that does not parse, which then matches nothing."""
    if header.strip() == "*":
        return None
    tags: list[tuple[bool, str]] = []
    for item in header.split(","):
        if not item.strip():
            continue
        match = ENTITY_TAG.fullmatch(item)
        if match is None:
            return []
        tags.append((match[1] is not None, match[2]))
    return tags


def if_match_tags(headers: Mapping[str, str], required: bool) -> list[str] | None:
    """The tags a write must find on the task (strong comparison), or None for no
    condition (no If-Match, or `*`: any existing task). 428 when one is required."""
    header = headers.get("if-match")
    if header is None:
        if required:
            raise ApiError(428, "This write needs If-Match with the task's ETag (from a GET)")
        return None
    tags = entity_tags(header)
    if tags is None:
        return None
    return [tag for weak, tag in tags if not weak]


def none_match(header: str | None, etag: str) -> bool:
    """Whether `If-None-Match` matches the current tag (weak comparison): then 304."""
    if header is None:
        return False
    tags = entity_tags(header)
    return True if tags is None else any(f'"{tag}"' == etag for _, tag in tags)


def changed_since(detail: str = "The task has changed since that ETag: fetch it and try again") -> ApiError:
    return ApiError(412, detail)
