"""Which server reads an answer's body: the read replica when it has caught up, else the primary.

Read-your-writes, per user: an answer is never older than what the primary had committed for
that user when the request arrived. The user's revision (migration 0005) moves with every
change to their tasks, so one indexed row read on the primary says what the answer must
include, and the same read on the replica whether it does. The replica reads the body only
then; it reads it after that check, on the same connection, so its snapshot is at least as
new. Lagging, failing or gone, the replica costs a statement and no error: the primary reads.

Without a replica (`Limits.read_replica` false) a read is what it always was: one statement.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import attrs

from core import queries
from core.plan import Query, Rows, StorageFailure
from core.routes import Context


def primary_revision(ctx: Context) -> Generator[Query, Any, int]:
    revision: int = (yield from queries.revision(ctx.user_id))[0][0]
    return revision


def fresh_rows(ctx: Context, query: Query, wanted: int | None = None) -> Generator[Query, Any, Rows]:
    """The body's rows, from the replica when it has the user's revision `wanted` (read from the
    primary now, unless the caller has read it already), else from the primary."""
    body = attrs.evolve(query, body_read=True)
    if not ctx.limits.read_replica:
        return (yield from body)
    if wanted is None:
        wanted = yield from primary_revision(ctx)
    try:
        (seen,), = yield from attrs.evolve(queries.revision(ctx.user_id), on="replica")
        if seen >= wanted:
            return (yield from attrs.evolve(body, on="replica"))
    except StorageFailure:
        pass  # the replica failed: the primary answers, the client sees no error
    return (yield from body)
