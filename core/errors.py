"""Errors that carry their HTTP status; the core turns each into a JSON body once."""

from __future__ import annotations

from typing import Any

import attrs

from core.http import Response, json_response


class ApiError(Exception):
    """A failure the client caused or must know about, with its status and message."""

    def __init__(
        self, status: int, detail: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers

    def to_response(self) -> Response:
        return json_response(self.status, {"detail": self.detail}, self.headers)


@attrs.frozen(slots=True)
class FieldProblem:
    """One entry of a 422 body: where (`loc`), what (`msg`) and a stable `type` code."""

    loc: tuple[str | int, ...]
    msg: str
    type: str

    def to_json(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.msg, "type": self.type}


class ValidationFailed(Exception):
    """The request was understood but its content is invalid: 422, one entry per problem."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(problems)
        self.problems = problems

    def to_response(self) -> Response:
        return json_response(422, {"detail": [p.to_json() for p in self.problems]})


def unauthorized(detail: str) -> ApiError:
    return ApiError(401, detail, (("WWW-Authenticate", "Bearer"),))


def not_found(detail: str = "Not Found") -> ApiError:
    return ApiError(404, detail)


TASK_NOT_FOUND = "Task not found"
INTERNAL_ERROR = ApiError(500, "Internal Server Error")
STOPPING = ApiError(503, "This instance is stopping; send requests to another")
DATABASE_UNAVAILABLE = ApiError(
    503, "Database unavailable, try again shortly", (("Retry-After", "5"),)
)
