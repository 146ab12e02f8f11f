"""How a psycopg error is reported to the core: reachable or not, and its SQLSTATE."""

from __future__ import annotations

import psycopg
from psycopg_pool import PoolTimeout

from core.plan import StorageFailure

UNREACHABLE = (psycopg.OperationalError, PoolTimeout)
"""Connection refused or lost, server shutting down, no connection free in time."""


def storage_failure(error: Exception) -> StorageFailure:
    if isinstance(error, UNREACHABLE):
        return StorageFailure(unavailable=True, message=str(error).strip())
    sqlstate = getattr(error, "sqlstate", None)
    return StorageFailure(unavailable=False, sqlstate=sqlstate, message=str(error).strip())
