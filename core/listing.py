"""The list endpoint's query parameters: filters and sort order, checked against their sets."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import attrs

from core.errors import FieldProblem, ValidationFailed
from core.tasks import FIELDS

SORT_FIELDS = tuple(field.name for field in FIELDS if field.sortable)
SORT_ORDERS = ("asc", "desc")
SEARCH_MAX = 255
FILTERS = tuple(field for field in FIELDS if field.filterable)

ENUM_PARAMS: dict[str, tuple[str, ...]] = {
    **{field.name: field.enum for field in FILTERS},
    "sort_by": SORT_FIELDS,
    "sort_order": SORT_ORDERS,
}
KNOWN_PARAMS = frozenset(ENUM_PARAMS) | {"search", "limit", "cursor"}
PAGE_MAX = 1000
"""The largest `limit` a client may ask for."""
CURSOR_MAX = 512


@attrs.frozen(slots=True)
class ListOptions:
    filters: tuple[tuple[str, str], ...] = ()
    """(field, value) pairs, in the field table's order: `?priority=high` is ("priority", "high")."""
    search: str | None = None
    sort_by: str = "createdAt"
    sort_order: str = "desc"
    limit: int | None = None
    cursor: str | None = None


def parse_query_string(query_string: bytes) -> dict[str, list[str]]:
    try:
        pairs = parse_qsl(
            query_string.decode("utf-8"), keep_blank_values=True, errors="strict"
        )
    except UnicodeDecodeError:
        raise ValidationFailed(
            [FieldProblem(("query",), "The query string is not valid UTF-8", "query_encoding")]
        ) from None
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def given_more_than_once(name: str) -> FieldProblem:
    return FieldProblem(("query", name), "Give this parameter at most once", "multiple_values")


def whole_number(name: str, value: str, low: int, high: int) -> int | FieldProblem:
    """The query parameter's value as an int in [low, high], or the problem to answer."""
    if value.isascii() and value.isdigit() and low <= int(value) <= high:
        return int(value)
    message = f"{name} must be a whole number from {low} to {high}"
    return FieldProblem(("query", name), message, f"{name}_range")


def parse_list_options(query_string: bytes) -> ListOptions:
    """Known parameters are checked; unknown ones (cache busters and the like) are ignored.

    An empty value means "no filter", as an HTML form's "all" option sends it.
    """
    params = parse_query_string(query_string)
    problems: list[FieldProblem] = []
    chosen: dict[str, Any] = {}
    for name in KNOWN_PARAMS & params.keys():
        values = params[name]
        if len(values) > 1:
            problems.append(given_more_than_once(name))
            continue
        value = values[0]
        if value == "" and name not in ("limit", "cursor"):  # an empty filter or sort means the default
            continue
        if name == "limit":
            limit = whole_number(name, value, 1, PAGE_MAX)
            if isinstance(limit, FieldProblem):
                problems.append(limit)
            else:
                chosen[name] = limit
            continue
        if name == "cursor":
            if 0 < len(value) <= CURSOR_MAX:
                chosen[name] = value
            else:
                problems.append(FieldProblem(("query", name), "Not a cursor this API made", "cursor_invalid"))
            continue
        if name == "search":
            if "\x00" in value:
                problems.append(
                    FieldProblem(("query", name), "search must not contain NUL", "string_nul")
                )
            elif len(value) > SEARCH_MAX:
                problems.append(
                    FieldProblem(
                        ("query", name),
                        f"search must be at most {SEARCH_MAX} characters",
                        "string_too_long",
                    )
                )
            else:
                chosen[name] = value
            continue
        allowed = ENUM_PARAMS[name]
        if value not in allowed:
            expected = ", ".join(f"'{a}'" for a in allowed)
            problems.append(FieldProblem(("query", name), f"{name} must be one of {expected}", "enum"))
        else:
            chosen[name] = value
    if problems:
        problems.sort(key=lambda p: str(p.loc))
        raise ValidationFailed(problems)
    filters = tuple((field.name, chosen.pop(field.name)) for field in FILTERS if field.name in chosen)
    return ListOptions(filters, **chosen)


def like_pattern(search: str) -> str:
    """A substring pattern for ILIKE in which %, _ and \\ match themselves."""
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
