"""Cross-origin rules: the allowed origins get the allow headers, every other origin none."""

from __future__ import annotations

import attrs

from core.http import Request, Response

ALLOWED_METHODS = "GET, POST, PUT, DELETE, PATCH, OPTIONS"
ALLOWED_HEADERS = (
    "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, X-Request-ID, traceparent"
)
EXPOSED_HEADERS = "ETag, Link, Location, Retry-After, WWW-Authenticate, X-Request-ID, X-Truncated"
"""What a page on an allowed origin may read: Retry-After (on a 503) and WWW-Authenticate
(on a 401) tell a frontend how to back off and why it was refused."""
PREFLIGHT_MAX_AGE = "600"


@attrs.frozen(slots=True)
class CorsPolicy:
    """`origins` are exact origins (scheme://host[:port]); "*" allows any, without credentials."""

    origins: frozenset[str]

    def allowed_origin_header(self, origin: str | None) -> tuple[tuple[str, str], ...]:
        if origin is None:
            return ()
        if origin in self.origins:
            return (
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Credentials", "true"),
            )
        if "*" in self.origins:
            return (("Access-Control-Allow-Origin", "*"),)
        return ()

    @staticmethod
    def is_preflight(request: Request) -> bool:
        return (
            request.method == "OPTIONS"
            and "origin" in request.headers
            and "access-control-request-method" in request.headers
        )

    def preflight_headers(self, request: Request) -> tuple[tuple[str, str], ...]:
        allow = self.allowed_origin_header(request.headers.get("origin"))
        if not allow:
            return ()
        return allow + (
            ("Access-Control-Allow-Methods", ALLOWED_METHODS),
            ("Access-Control-Allow-Headers", ALLOWED_HEADERS),
            ("Access-Control-Max-Age", PREFLIGHT_MAX_AGE),
        )

    def apply(self, request: Request, response: Response, vary: str = "Origin") -> Response:
        """Add the CORS headers a response to this request needs (preflight or actual), and
        `Vary` (which names Origin: the allow headers depend on it)."""
        if self.is_preflight(request):
            allow = self.preflight_headers(request)
        else:
            allow = self.allowed_origin_header(request.headers.get("origin"))
            if allow:
                allow += (("Access-Control-Expose-Headers", EXPOSED_HEADERS),)
        return response.with_headers(allow + (("Vary", vary),))
