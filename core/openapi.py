"""The OpenAPI 3.1 document, built from the core's own tables: the field table
(`core.tasks.FIELDS`), the list's options (`core.listing`) and the route table
(`core.api.ROUTES`, each operation's answers), and the limits the core checks
(`core.auth`, `core.idempotency`, `core.http`): a field, a route or a limit changed
there is changed in the document.

Besides an operation's own answers, every operation of a kind answers the errors of
that kind, listed once below (`error_statuses`), each with the JSON it carries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.auth import MAX_USER_ID_LENGTH
from core.changes import SINCE_MAX
from core.http import MAX_BODY_BYTES
from core.idempotency import KEY_PATTERN
from core.listing import CURSOR_MAX, FILTERS, PAGE_MAX, SEARCH_MAX, SORT_FIELDS, SORT_ORDERS
from core.routes import Operation, Route
from core.tasks import CATEGORIES, FIELDS, NO_NUL, PRIORITIES, REQUIRED_ON_CREATE, WRITABLE, Field
from core.version import __version__

OPENAPI_VERSION = "3.1.0"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def field_schema(field: Field) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": [field.json_type, "null"] if field.nullable else field.json_type}
    if field.enum:
        schema["enum"] = list(field.enum)
    if field.format:
        schema["format"] = field.format
    if field.max_length is not None:
        schema["maxLength"] = field.max_length
    if field.pattern is not None:
        schema["pattern"] = f"^{field.pattern}$"
    schema["description"] = field.description
    return schema


def counts(names: Iterable[str]) -> dict[str, Any]:
    names = list(names)
    count = {"type": "integer", "minimum": 0}
    return {"type": "object", "properties": {name: count for name in names}, "required": names,
            "additionalProperties": False}


def obj(properties: dict[str, Any], required: Iterable[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties,
            "required": list(properties if required is None else required), "additionalProperties": False}


def schemas() -> dict[str, Any]:
    writable = {field.name: field_schema(field) for field in WRITABLE}
    return {
        "Task": obj({field.name: field_schema(field) for field in FIELDS}),
        "TaskList": {"type": "array", "items": ref("Task")},
        "TaskCreate": {**obj(writable, REQUIRED_ON_CREATE),
                       "description": "Optional fields left out are null."},
        "TaskUpdate": {**obj(writable, ()),
                       "description": "Fields left out are unchanged; null clears a nullable one."},
        "Completion": {**obj({"completed": {"type": "boolean"}}, ()),
                       "description": "Sets the state (again: no change); no body or {} toggles it."},
        "Stats": obj({
            "total": {"type": "integer", "minimum": 0},
            "pending": {"type": "integer", "minimum": 0},
            "completed": {"type": "integer", "minimum": 0},
            "overdue": {"type": "integer", "minimum": 0, "description": "Pending, and due before now."},
            "byPriority": counts(PRIORITIES),
            "byCategory": counts(CATEGORIES),
        }),
        "Changes": obj({
            "revision": {"type": "integer", "minimum": 0,
                         "description": "Where this answer brings the client: its next `since`."},
            "tasks": {"type": "array", "items": ref("Task"),
                      "description": "Tasks created or changed after `since`, as they are now."},
            "deleted": {"type": "array", "items": {"type": "string", "format": "uuid"},
                        "description": "Ids of the tasks deleted after `since`."},
        }),
        "EventStream": {
            "description": "Each server-sent event (WHATWG HTML) of the stream: at once and on every "
                           "change, the user's revision (fetch what changed from `/api/{user_id}/changes"
                           "?since=`); when the token expires, `expired` and the end: reconnect with a "
                           "fresh token. A `: keep-alive` comment follows EVENTS_HEARTBEAT_SECONDS of "
                           "silence.",
            "oneOf": [
                sse_event("revision", obj({"revision": {"type": "integer", "minimum": 0}}),
                          {"type": "string", "pattern": "^[0-9]+$", "description": "The revision"}),
                sse_event("expired", obj({"detail": {"type": "string"}})),
            ],
        },
        "Error": obj({"detail": {"type": "string"}}),
        "ValidationError": obj({"detail": {"type": "array", "items": obj({
            "loc": {"type": "array", "items": {"type": ["string", "integer"]},
                    "description": 'Where: ["body", "title"], ["query", "sort_by"]...'},
            "msg": {"type": "string"},
            "type": {"type": "string", "description": "A stable code: missing, enum, string_too_long..."},
        })}}),
        "About": obj({"message": {"type": "string"}, "version": {"type": "string"}}),
        "Health": obj({"status": {"const": "healthy"},
                       "timestamp": {"type": "string", "format": "date-time"}}),
        "Ready": obj({"status": {"const": "ready"}}),
    }


ERROR_MEANINGS = {
    400: "The request's framing is broken (a Content-Length that is not one number)",
    401: "No valid bearer token",
    403: "The token's user is not the user in the path",
    404: "No such task (or another user's), or a path that names nothing",
    409: "The user already has MAX_TASKS_PER_USER tasks, or another request is creating with "
         "the same Idempotency-Key right now",
    410: "`since` is older than the deletions kept (DELETIONS_KEPT_*) or ahead of the user's revision: "
         "reload the list",
    413: f"The body is larger than {MAX_BODY_BYTES} bytes",
    412: "If-Match named none of the task's current ETags: it changed since; nothing was written",
    422: "The body or the query is not valid: every problem, located",
    428: "REQUIRE_IF_MATCH is on and the write has no If-Match",
    503: "The database (or the token issuer's keys) cannot be reached, or (events) too many streams are "
         "open: try again",
}
HEADERS = {
    "Location": "Where the created task is",
    "WWW-Authenticate": "Bearer",
    "Retry-After": "Seconds to wait before trying again",
    "X-Truncated": "true when a list asked without a limit was cut at LIST_MAX_ITEMS",
    "Link": '<the next page>; rel="next" (RFC 8288), while more tasks follow',
    "Allow": "The methods this path answers",
    "X-Request-ID": "The request's id, on every answer: the client's X-Request-ID when it is 1-128 safe "
                    "characters, else a new one; the server's log lines for the request carry it",
    "ETag": "The version of what is answered: send it back in If-None-Match (or a task's in If-Match)",
}


ERROR_HEADERS = {401: "WWW-Authenticate", 503: "Retry-After"}
TEXT = {"type": "string"}
HEADER_SCHEMAS = {"Idempotency-Key": {"type": "string", "pattern": f"^({KEY_PATTERN})$"}}
CONDITIONS = {
    "Idempotency-Key": "Makes a retry safe: the same key and body within IDEMPOTENCY_KEY_TTL_SECONDS get "
                       "the first answer again and create nothing; the same key with another body is a 422",
    "If-Match": 'Write only if the task still has one of these ETags ("*": any existing task)',
    "If-None-Match": "Answer 304 without a body while the ETag is one of these",
}


def sse_event(name: str, data: dict[str, Any], event_id: dict[str, Any] | None = None) -> dict[str, Any]:
    """A server-sent event named `name` whose data is JSON as `data` says. An event without
    an `id` of its own keeps the last one sent (WHATWG HTML's last event ID)."""
    properties: dict[str, Any] = {
        "event": {"const": name},
        "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data},
        "id": event_id or {"type": "string"},
    }
    required = ["event", "data"] + ["id"] * (event_id is not None)
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def header(name: str) -> dict[str, Any]:
    return {name: {"description": HEADERS[name], "schema": {"type": "string"}}}


def error_statuses(route: Route, operation: Operation) -> list[int]:
    """What an operation can answer besides its own answers, by its kind."""
    statuses = list(operation.errors)
    if route.authenticated:
        statuses += [401, 403, 404, 503]
    if operation.body:
        statuses += [400, 413, 422]
    if operation.list_query or operation.feed_query:
        statuses.append(422)
    if operation.uses_database:
        statuses.append(503)
    if operation.if_match:
        statuses += [412, 428]
    return sorted(set(statuses))


def response(status: int, schema: str | None, headers: dict[str, Any], description: str,
             media_type: str = "application/json") -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "headers": {**headers, **header("X-Request-ID")}}
    if schema is not None:
        answer["content"] = {media_type: {"schema": ref(schema)}}
    return answer


def responses(route: Route, operation: Operation) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for status, schema in operation.answers.items():
        headers = header("Location") if status == 201 else {}
        if operation.list_query:
            headers = {**header("Link"), **header("X-Truncated")}
        if operation.feed_query:
            headers = header("Link")
        if schema == "Task" or operation.if_none_match:
            headers = {**headers, **header("ETag")}
        meaning = "Not modified: the ETag is still current" if status == 304 else "Done, no content"
        result[str(status)] = response(status, schema, headers, "Success" if schema else meaning,
                                       operation.media_type)
    for status in error_statuses(route, operation):
        headers = header(ERROR_HEADERS[status]) if status in ERROR_HEADERS else {}
        schema = "ValidationError" if status == 422 else "Error"
        result[str(status)] = response(status, schema, headers, ERROR_MEANINGS[status])
    return result


def list_parameters() -> list[dict[str, Any]]:
    def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}

    parameters = [
        query(field.name, {"type": "string", "enum": ["", *field.enum]}, f"Only tasks with this {field.name}"
              " (empty: no filter)")
        for field in FILTERS
    ]
    parameters += [
        query("search", {"type": "string", "maxLength": SEARCH_MAX, "pattern": f"^{NO_NUL}$"},
              "Only tasks whose title or description contains this text, in any case"),
        query("sort_by", {"type": "string", "enum": ["", *SORT_FIELDS], "default": "createdAt"},
              "Sort key (priority ranks low < medium < high; dueDate puts tasks without one last)"),
        query("sort_order", {"type": "string", "enum": ["", *SORT_ORDERS], "default": "desc"}, "Direction"),
        query("limit", {"type": "integer", "minimum": 1, "maximum": PAGE_MAX},
              "Tasks per page; while more follow, the answer's Link header names the next page"),
        query("cursor", {"type": "string", "minLength": 1, "maxLength": CURSOR_MAX},
              "Where a page starts: taken from a Link rel=next, with the same filters, search and sort"),
    ]
    return parameters


def feed_parameters() -> list[dict[str, Any]]:
    return [
        {"name": "since", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 0, "maximum": SINCE_MAX, "default": 0},
         "description": "The revision of the client's last answer; 0: everything (a full sync)"},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_MAX},
         "description": "Changes per page (default: LIST_MAX_ITEMS); while more follow, the Link header "
                        "names the next page"},
    ]


def path_parameters(route: Route) -> list[dict[str, Any]]:
    known = {
        "user_id": ({"type": "string", "minLength": 1, "maxLength": MAX_USER_ID_LENGTH},
                    "The signed-in user's id: the token's subject"),
        "task_id": ({"type": "string", "format": "uuid"}, "A task id, in the canonical 8-4-4-4-12 form"),
    }
    names = [segment[1:-1] for segment in route.segments if segment.startswith("{")]
    return [{"name": name, "in": "path", "required": True, "schema": known[name][0],
             "description": known[name][1]} for name in names]


def operation_object(route: Route, operation: Operation) -> dict[str, Any]:
    result: dict[str, Any] = {"operationId": operation.id, "summary": operation.summary}
    if operation.list_query:
        result["parameters"] = list_parameters()
    if operation.feed_query:
        result["parameters"] = feed_parameters()
    headers = (("If-Match", operation.if_match), ("If-None-Match", operation.if_none_match),
               ("Idempotency-Key", operation.idempotency_key))
    for name, wanted in headers:
        if wanted:
            result.setdefault("parameters", []).append(
                {"name": name, "in": "header", "required": False, "schema": HEADER_SCHEMAS.get(name, TEXT),
                 "description": CONDITIONS[name]})
    if operation.body:
        content = {"application/json": {"schema": ref(operation.body)}}
        result["requestBody"] = {"required": operation.body_required, "content": content}
    result["responses"] = responses(route, operation)
    result["security"] = [{"bearerAuth": []}] if route.authenticated else []
    return result


DESCRIPTION = (
    "Each user's tasks. Sign in with Better Auth and send its JWT as a bearer token; a user reaches only "
    "the paths under their own id. Every path also answers OPTIONS (204, and a CORS preflight for an "
    "allowed Origin) and HEAD, and a method it lacks with 405 (`MethodNotAllowed`); both say in `Allow` "
    "what it answers."
)


def openapi_document(routes: Iterable[Route], base_path: str = "") -> dict[str, Any]:
    """The document for the API mounted at `base_path` (its one server's URL)."""
    paths: dict[str, Any] = {}
    for route in routes:
        if not route.documented:
            continue
        item: dict[str, Any] = {}
        if any(segment.startswith("{") for segment in route.segments):
            item["parameters"] = path_parameters(route)
        for method, operation in route.operations.items():
            item[method.lower()] = operation_object(route, operation)
        paths[route.pattern] = item
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Todo API",
            "version": __version__,
            "description": DESCRIPTION,
        },
        "servers": [{"url": base_path or "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "responses": {"MethodNotAllowed": response(405, "Error", header("Allow"), "Not its method")},
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
