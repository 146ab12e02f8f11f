"""What a task is, and how a client's JSON becomes values fit to store.

Validation collects every problem at once, each with its location, so that a form can
show all of them. The rules are one table, `FIELDS`: what each field is, accepts and
renders, read by validation, the SQL, the list's options and the OpenAPI document.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, Literal

import attrs

from core.errors import FieldProblem, ValidationFailed
from core.text import Invalid, check_text

WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
"""What makes a text blank: ECMAScript's white space and line terminators, written so
that Python's `re` and a JSON Schema `pattern` read the same class (the schema and this
check must agree to the character)."""
NO_NUL = "[^\\u0000]*"
WITH_CONTENT = f"{NO_NUL}[^\\u0000{WHITESPACE}]{NO_NUL}"
"""Text with no NUL (PostgreSQL cannot store it) and at least one character that is not blank."""

IN_DATE_RANGE = "(?!0001-01-01|9999-12-31).*"
"""A date-time written on 0001-01-02 .. 9999-12-30: with any offset (at most a day) it is an
instant PostgreSQL stores and every client's date type holds. The first and last day are
refused as written, so that the schema's `pattern` can say exactly what is accepted."""

UTC_TEXT = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


@attrs.frozen
class Field:
    """One field of a task as the API shows it: its JSON schema, its SQL column, how
    PostgreSQL renders it, and what a client may do with it. Validation, the SQL column
    lists, the list's filters and sort keys, and the OpenAPI schemas all read this."""

    name: str
    json_type: Literal["string", "boolean"]
    description: str
    column: str | None = None
    """Its SQL column, quoted where SQL needs it; None for a value derived from others."""
    render: str | None = None
    """The SQL expression of its JSON value in `task_json` (migration 0003); default: the column."""
    nullable: bool = False
    writable: bool = False
    """A client sets it on create (`required`: must) and may change it on update."""
    required: bool = False
    max_length: int | None = None
    pattern: str | None = None
    """A regular expression the whole text must match (Python `re` and ECMAScript alike)."""
    enum: tuple[str, ...] = ()
    """The allowed values; in rank order where the list sorts by it."""
    format: str | None = None
    filterable: bool = False
    """The list can be filtered to one of its values (`?priority=high`)."""
    sortable: bool = False

    @property
    def sql_column(self) -> str:
        return self.column or self.name

    @property
    def sql_value(self) -> str:
        return self.render or self.sql_column

    @property
    def sql_type(self) -> str:
        if self.format == "date-time":
            return "timestamptz"
        return "boolean" if self.json_type == "boolean" else "uuid" if self.format == "uuid" else "text"

    @property
    def sort_keys(self) -> tuple[str, ...]:
        """SQL the list sorts by: an enum by rank, text case-insensitively (ties by case)."""
        return self.sort_keys_of(self.sql_column)

    def sort_keys_of(self, value: str) -> tuple[str, ...]:
        """The sort keys of any SQL value of this field (a column, or a cursor's parameter)."""
        if self.enum:
            values = ",".join(f"'{choice}'" for choice in self.enum)
            return (f"array_position(ARRAY[{values}]::text[], {value})",)
        if self.format is None and self.json_type == "string":
            return (f"lower({value})", value)
        return (value,)


FIELDS = (
    Field("id", "string", "Made by the server when the task is created.", column="id", format="uuid"),
    Field("title", "string", "What to do; not blank.", column="title", writable=True, required=True,
          max_length=255, pattern=WITH_CONTENT, sortable=True),
    Field("description", "string", "Details; null clears it.", column="description", nullable=True,
          writable=True, max_length=1000, pattern=NO_NUL),
    Field("priority", "string", "Sorting by priority follows low < medium < high.", column="priority",
          writable=True, required=True, enum=("low", "medium", "high"), filterable=True, sortable=True),
    Field("category", "string", "What the task is about.", column="category", writable=True, required=True,
          enum=("work", "personal", "home", "other"), filterable=True),
    Field("status", "string", "Changed only by toggling (PATCH .../complete).", column="status",
          enum=("pending", "completed"), filterable=True),
    Field("completed", "boolean", "Whether status is completed.", render="status = 'completed'"),
    Field("dueDate", "string", "An RFC 3339 date-time with an offset, on 0001-01-02 .. 9999-12-30 as "
          "written; answered in UTC. null clears it.",
          column='"dueDate"', render=UTC_TEXT.format('"dueDate"'), nullable=True, writable=True,
          format="date-time", pattern=IN_DATE_RANGE, sortable=True),
    Field("createdAt", "string", "When the task was created (UTC).", column='"createdAt"',
          render=UTC_TEXT.format('"createdAt"'), format="date-time", sortable=True),
    Field("updatedAt", "string", "When the task last changed (UTC); always moves forward.",
          column='"updatedAt"', render=UTC_TEXT.format('"updatedAt"'), format="date-time", sortable=True),
    Field("userId", "string", "The owner: the token's subject.", column='"userId"'),
)
"""Every field, in the order a task's JSON lists them."""
FIELD = {field.name: field for field in FIELDS}
WRITABLE = tuple(field for field in FIELDS if field.writable)
REQUIRED_ON_CREATE = tuple(field.name for field in WRITABLE if field.required)
READ_ONLY_FIELDS = frozenset(field.name for field in FIELDS if not field.writable)
"""Fields the server owns: a client that sends one gets a 422, never a silent ignore."""

PRIORITIES = FIELD["priority"].enum
CATEGORIES = FIELD["category"].enum


def parse_text(field: Field, value: Any) -> str:
    label = field.name.capitalize()
    text = check_text(value)
    if field.max_length is not None and len(text) > field.max_length:
        raise Invalid("string_too_long", f"{label} must be at most {field.max_length} characters")
    if field.pattern is not None and not re.fullmatch(field.pattern, text):
        raise Invalid("string_blank", f"{label} must not be empty or blank")
    return text


def parse_choice(field: Field, value: Any) -> str:
    if not isinstance(value, str) or value not in field.enum:
        expected = ", ".join(f"'{choice}'" for choice in field.enum)
        raise Invalid("enum", f"{field.name} must be one of {expected}")
    return value


RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?P<fraction>\.\d+)?(?P<offset>[Zz]|[+-]\d{2}:\d{2})"
)


def parse_date_time(field: Field, value: Any) -> datetime:
    """An RFC 3339 date-time with an offset (as JavaScript's toISOString writes)."""
    if not isinstance(value, str):
        raise Invalid("datetime_type", f"{field.name} must be an RFC 3339 date-time string or null")
    match = RFC3339.fullmatch(value)
    if match is None:
        raise Invalid(
            "datetime_format",
            f"{field.name} must be an RFC 3339 date-time with an offset, like 2026-01-31T17:00:00Z",
        )
    if field.pattern is not None and not re.fullmatch(field.pattern, value):
        raise Invalid("datetime_range", f"{field.name} must lie between 0001-01-02 and 9999-12-30")
    text = value
    fraction = match.group("fraction")
    if fraction and len(fraction) > 7:  # Python keeps microseconds: drop finer digits
        text = text.replace(fraction, fraction[:7], 1)
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise Invalid("datetime_range", f"{field.name} is not a valid date-time") from None


def parse_value(field: Field, value: Any) -> Any:
    """A client's value for a writable field, as it is stored; null only where allowed."""
    if value is None:
        if field.nullable:
            return None
        raise Invalid("null_not_allowed", f"{field.name.capitalize()} cannot be null")
    if field.enum:
        return parse_choice(field, value)
    if field.format == "date-time":
        return parse_date_time(field, value)
    return parse_text(field, value)


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
        field = FIELD.get(name)
        if field is None or not field.writable:
            if name in READ_ONLY_FIELDS:
                problems.append(
                    FieldProblem(("body", name), "Field is set by the server", "read_only")
                )
            else:
                problems.append(FieldProblem(("body", name), "Unknown field", "extra_forbidden"))
            continue
        try:
            values[name] = parse_value(field, raw)
        except Invalid as invalid:
            problems.append(FieldProblem(("body", name), invalid.msg, invalid.type))
    if problems:
        raise ValidationFailed(problems)
    return values


def validate_create(body: bytes) -> dict[str, Any]:
    """Every writable field's value: the optional ones absent from the body are null."""
    values = validate_fields(parse_json_object(body), required=REQUIRED_ON_CREATE)
    return {field.name: values.get(field.name) for field in WRITABLE}


def validate_update(body: bytes) -> dict[str, Any]:
    """Only the fields present: absent means unchanged, null clears description or dueDate."""
    return validate_fields(parse_json_object(body), required=())


def validate_completion(body: bytes) -> bool | None:
    """PATCH .../complete: `{"completed": true}` or `false` sets the state (None: no body,
    or `{}`, toggles)."""
    if not body.strip():
        return None
    data = parse_json_object(body)
    problems = [FieldProblem(("body", name), "Unknown field", "extra_forbidden")
                for name in data if name != "completed"]
    completed = data.get("completed")
    if "completed" in data and not isinstance(completed, bool):
        problems.append(FieldProblem(("body", "completed"), "completed must be true or false", "bool_type"))
    if problems:
        raise ValidationFailed(problems)
    return completed
