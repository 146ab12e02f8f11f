"""How the core asks for data without doing I/O.

A plan is a generator: it yields each `Query` it needs and is sent back the rows
(a list of tuples); its return value is the `Response`. Before any query, it may also
yield `FetchKeys` (authentication needs the issuer's JWKS) and be sent `FetchedKeys`.
When the database fails, the driver throws a `StorageFailure` into the plan instead of
sending rows, so that the core, not the driver, decides what the client sees.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import attrs

from core.http import Response
from core.keys import FetchKeys

Rows = list[tuple[Any, ...]]


@attrs.frozen(slots=True)
class Query:
    """One SQL statement with its parameters (psycopg `%s` placeholders)."""

    sql: str
    params: Sequence[Any] = ()


@attrs.frozen(slots=True)
class StorageFailure(Exception):
    """What a driver reports when a statement or a connection fails.

    `unavailable` is true when the database could not be reached at all (the client
    should retry); `sqlstate` is the PostgreSQL error code when the server answered.
    """

    unavailable: bool
    sqlstate: str | None = None
    message: str = ""


Effect = Query | FetchKeys
"""What a plan may ask its driver for: rows from the database, or the issuer's JWKS."""

Plan = Generator[Effect, Any, Response]
