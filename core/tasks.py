"""What a task is, and how a client's JSON becomes values fit to store.

Validation collects every problem at once, each with its location, so that a form can
show all of them. The rules are a table from field name to a parser: one place to
read what each field accepts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from core.errors import FieldProblem, ValidationFailed

PRIORITIES = ("low", "medium", "high")
"""In rank order: sorting by priority follows this order, not the alphabet."""
CATEGORIES = ("work", "personal", "home", "other")
STATUSES = ("pending", "completed")

TITLE_MAX = 255
DESCRIPTION_MAX = 1000

READ_ONLY_FIELDS = frozenset(
    {"id", "userId", "status", "completed", "createdAt", "updatedAt"}
)
"""Fields the server owns: a client that sends one gets a 422, never a silent ignore."""


class Invalid(Exception):
    """One field's value is unacceptable; carries the problem's type code and message."""

    def __init__(self, type_: str, msg: str) -> None:
        super().__init__(msg)
        self.type = type_
        self.msg = msg


def check_text(value: Any) -> str:
    """A JSON string that PostgreSQL can store (no NUL, no lone surrogate)."""
    if not isinstance(value, str):
        raise Invalid("string_type", "Input should be a string")
    if "\x00" in value:
        raise Invalid("string_nul", "Text must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid("string_unicode", "Text must be valid Unicode (no lone surrogates)") from None
    return value


def parse_title(value: Any) -> str:
    if value is None:
        raise Invalid("null_not_allowed", "Title cannot be null")
    title = check_text(value)
    if not title.strip():
        raise Invalid("string_blank", "Title must not be empty or blank")
    if len(title) > TITLE_MAX:
        raise Invalid("string_too_long", f"Title must be at most {TITLE_MAX} characters")
    return title


def parse_description(value: Any) -> str | None:
    if value is None:
        return None
    description = check_text(value)
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(
            "string_too_long", f"Description must be at most {DESCRIPTION_MAX} characters"
        )
    return description


def one_of(name: str, choices: tuple[str, ...]) -> Callable[[Any], str]:
    expected = ", ".join(f"'{c}'" for c in choices)

    def parse(value: Any) -> str:
        if value not in choices or not isinstance(value, str):
            raise Invalid("enum", f"{name} must be one of {expected}")
        return value

    return parse


RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?P<fraction>\.\d+)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})"
)


def parse_due_date(value: Any) -> datetime | None:
    """An RFC 3339 date-time with an offset (as JavaScript's toISOString writes), or null."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("datetime_type", "dueDate must be an RFC 3339 date-time string or null")
    match = RFC3339.fullmatch(value)
    if match is None:
        raise Invalid(
            "datetime_format",
            "dueDate must be an RFC 3339 date-time with an offset, like 2026-01-31T17:00:00Z",
        )
    text = value
    fraction = match.group("fraction")
    if fraction and len(fraction) > 7:  # Python keeps microseconds: drop finer digits
        text = text.replace(fraction, fraction[:7], 1)
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
        return moment.astimezone(UTC)  # fails for instants outside years 1..9999 in UTC
    except (ValueError, OverflowError):
        raise Invalid("datetime_range", "dueDate is not a valid date-time") from None


FIELD_PARSERS: dict[str, Callable[[Any], Any]] = {
    "title": parse_title,
    "description": parse_description,
    "priority": one_of("priority", PRIORITIES),
    "category": one_of("category", CATEGORIES),
    "dueDate": parse_due_date,
}
REQUIRED_ON_CREATE = ("title", "priority", "category")


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or a 422 saying why it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        problem = FieldProblem(("body",), f"Invalid JSON: {error}", "json_invalid")
        raise ValidationFailed([problem]) from None
    if not isinstance(data, dict):
        problem = FieldProblem(("body",), "The body must be a JSON object", "object_type")
        raise ValidationFailed([problem])
    return data


def validate_fields(data: dict[str, Any], *, required: tuple[str, ...]) -> dict[str, Any]:
    """The parsed values of the fields present in `data`, keyed by their JSON name."""
    problems: list[FieldProblem] = []
    values: dict[str, Any] = {}
    for name in required:
        if name not in data:
            problems.append(FieldProblem(("body", name), "Field required", "missing"))
    for name, raw in data.items():
        parser = FIELD_PARSERS.get(name)
        if parser is None:
            if name in READ_ONLY_FIELDS:
                problems.append(
                    FieldProblem(("body", name), "Field is set by the server", "read_only")
                )
            else:
                problems.append(FieldProblem(("body", name), "Unknown field", "extra_forbidden"))
            continue
        try:
            values[name] = parser(raw)
        except Invalid as invalid:
            problems.append(FieldProblem(("body", name), invalid.msg, invalid.type))
    if problems:
        raise ValidationFailed(problems)
    return values


def validate_create(body: bytes) -> dict[str, Any]:
    values = validate_fields(parse_json_object(body), required=REQUIRED_ON_CREATE)
    values.setdefault("description", None)
    values.setdefault("dueDate", None)
    return values


def validate_update(body: bytes) -> dict[str, Any]:
    """Only the fields present: absent means unchanged, null clears description or dueDate."""
    return validate_fields(parse_json_object(body), required=())
