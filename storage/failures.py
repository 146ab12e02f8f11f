"""How a psycopg error is reported to the core: reachable or not, and its SQLSTATE."""

from __future__ import annotations

import psycopg
from psycopg_pool import PoolTimeout

from core.plan import StorageFailure

UNREACHABLE = (psycopg.OperationalError, PoolTimeout)
"""Connection refused or lost, server shutting down, no connection free in time."""


def storage_failure(error: Exception) -> StorageFailure:
    """Unavailable when no server answered; else its SQLSTATE (a cancelled statement is 57014,
    an OperationalError too, but one the server answered)."""
    sqlstate = getattr(error, "sqlstate", None)
    unavailable = isinstance(error, UNREACHABLE) and sqlstate is None
    return StorageFailure(unavailable=unavailable, sqlstate=sqlstate, message=str(error).strip(),
                          pool_exhausted=isinstance(error, PoolTimeout))
