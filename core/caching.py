"""What caches may do with an answer, said on every answer on purpose.

An answer on an authenticated route is one user's data: a browser may keep it
(`private`, never a shared cache) but must ask again before using it (`no-cache`), which
the ETags make a cheap 304; it varies with the token (`Vary: Authorization`) as well as
with the origin (the CORS headers). Every other answer (health, readiness, the OpenAPI
document, a path the API does not know) is `no-cache` too: none is meant to be used
without asking. An answer that says otherwise itself keeps its own (the docs' assets,
`/metrics`).
"""

from __future__ import annotations

import attrs


@attrs.frozen(slots=True)
class Caching:
    cache_control: str
    vary: str

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return (("Cache-Control", self.cache_control),)


PRIVATE = Caching("private, no-cache", "Origin, Authorization")
SHARED = Caching("no-cache", "Origin")
