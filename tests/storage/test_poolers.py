"""Prepared statements: on for a direct connection, off behind a transaction-mode pooler.

psycopg prepares a statement after its 5th use. Behind PgBouncer in transaction mode the
next use may land on a server connection that never saw it, or one where another client
prepared a different statement under the same name; the drivers tell the two cases apart
on each new connection and never prepare behind a pooler unless told to.
"""

import asyncio

import psycopg
import pytest

from storage import aio, sync
from storage.options import DatabaseOptions, auto_prepare_threshold, behind_a_pooler
from tests.pgbouncer import server_pids


def thresholds_sync(url, mode):
    database = sync.Database(url, DatabaseOptions(prepared_statements=mode, pool_timeout=5)).open()
    try:
        with database.connection() as conn:
            return conn.prepare_threshold
    finally:
        database.close()


def thresholds_async(url, mode):
    async def go():
        database = await aio.Database(url, DatabaseOptions(prepared_statements=mode, pool_timeout=5)).open()
        try:
            async with database.connection() as conn:
                return conn.prepare_threshold
        finally:
            await database.close()

    return asyncio.run(go())


@pytest.fixture(params=["sync", "async"])
def threshold_of(request):
    return {"sync": thresholds_sync, "async": thresholds_async}[request.param]


def test_the_decision_rule():
    assert not behind_a_pooler(4242, 4242)
    assert behind_a_pooler(-1734567890, 4242)
    assert auto_prepare_threshold(4242, 4242) == 5
    assert auto_prepare_threshold(99, 4242) is None
    assert auto_prepare_threshold(4242, None) is None


def test_direct_connections_prepare_statements(threshold_of, database_url):
    assert threshold_of(database_url, "auto") == 5
    assert threshold_of(database_url, "off") is None


def test_connections_through_a_transaction_pooler_do_not(threshold_of, pooled_database_url):
    assert len(server_pids(pooled_database_url)) >= 1
    assert threshold_of(pooled_database_url, "auto") is None
    assert threshold_of(pooled_database_url, "on") == 5  # forced: for poolers that support them


def test_the_pooler_really_multiplexes(pooled_database_url, database_url):
    """What makes prepared statements unsafe there: one client, several server sessions."""
    with psycopg.connect(database_url, autocommit=True) as direct, \
            psycopg.connect(pooled_database_url, autocommit=True, prepare_threshold=None) as pooled:
        assert direct.info.backend_pid == direct.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert pooled.info.backend_pid != pooled.execute("SELECT pg_backend_pid()").fetchone()[0]


def test_forcing_prepared_statements_through_the_pooler_breaks(pooled_database_url):
    """The failure `auto` avoids, reproduced: two clients take turns on the pooled server sessions."""
    errors = []
    with psycopg.connect(pooled_database_url, autocommit=True) as first, \
            psycopg.connect(pooled_database_url, autocommit=True) as second:
        for _ in range(12):
            for conn in (first, second):
                try:
                    conn.execute("SELECT %s::int", (1,)).fetchall()
                except psycopg.Error as error:
                    errors.append(error.sqlstate)
    assert errors and set(errors) <= {"26000", "42P05"}  # does not exist / already exists


def test_migrations_run_through_the_pooler(create_database, pgbouncer):
    from storage.migrate import migrate

    url = pgbouncer.url(create_database(migrated=False))
    assert "0001_create_tasks" in migrate(url)[0]
    assert migrate(url) == []


def test_the_connection_limit_is_known_directly_and_not_behind_a_pooler(database_url, pooled_database_url):
    from storage.capacity import connections_available

    with psycopg.connect(database_url) as conn:
        limit = conn.execute("SELECT current_setting('max_connections')::int"
                             " - current_setting('superuser_reserved_connections')::int").fetchone()[0]
    assert connections_available(database_url) == limit
    assert connections_available(pooled_database_url) is None
