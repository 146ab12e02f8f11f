"""The route table: which path and method reach which handler, and path parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from core.http import Request, Response
from core.plan import Plan


@attrs.frozen(slots=True)
class Limits:
    """What one user may hold and get back at once (MAX_TASKS_PER_USER, LIST_MAX_ITEMS)."""

    max_tasks_per_user: int = 10_000
    list_max_items: int = 1_000


DEFAULT_LIMITS = Limits()


@attrs.frozen(slots=True)
class Context:
    """What a handler gets: the request, its path parameters, the verified user, the limits."""

    request: Request
    params: Mapping[str, str]
    user_id: str = ""
    limits: Limits = DEFAULT_LIMITS

    @property
    def body(self) -> bytes:
        """The request body: the API has read it before any handler runs."""
        return self.request.body or b""


Handler = Callable[[Context], "Plan | Response"]


@attrs.frozen(slots=True)
class Route:
    """A path pattern like "/api/{user_id}/tasks" and its handlers by method."""

    pattern: str
    handlers: Mapping[str, Handler]
    authenticated: bool
    segments: tuple[str, ...] = attrs.field(init=False)

    @segments.default
    def _split(self) -> tuple[str, ...]:
        return tuple(self.pattern.split("/")[1:])

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for part, segment in zip(parts, self.segments, strict=True):
            if segment.startswith("{"):
                if not part:
                    return None
                params[segment[1:-1]] = part
            elif part != segment:
                return None
        return params

    def allow_header(self) -> str:
        methods = set(self.handlers) | {"OPTIONS"}
        if "GET" in methods:
            methods.add("HEAD")
        return ", ".join(sorted(methods))


class RouteTable:
    """Routes grouped by their number of path segments: a path is tried only against its peers."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self._by_length: dict[int, list[Route]] = {}
        for route in routes:
            self._by_length.setdefault(len(route.segments), []).append(route)

    def find(self, path: str) -> tuple[Route, dict[str, str]] | None:
        parts = (path or "/").split("/")[1:]
        for route in self._by_length.get(len(parts), ()):
            params = route.match(parts)
            if params is not None:
                return route, params
        return None
