"""A keyed create prunes a few of its user's expired Idempotency-Keys, and no one else's (every
statement names its tenant: tests/statements.py)."""

from __future__ import annotations

import psycopg

from core import queries
from core.tasks import validate_create
from tests.helpers import new_user_id

TASK = validate_create(b'{"title": "t", "priority": "low", "category": "work"}')


def keys_of(conn: psycopg.Connection, user: str) -> set[str]:
    return {key for (key,) in conn.execute('SELECT key FROM idempotency_keys WHERE "userId" = %s', (user,))}


def create(conn: psycopg.Connection, user: str, key: str) -> None:
    query = queries.create_task_once(user, TASK, 100, key, "digest", ttl_seconds=3600)
    conn.execute(query.sql, query.params).fetchall()


def test_a_keyed_create_prunes_its_users_expired_keys_only(database_url):
    me, other = new_user_id(), new_user_id()
    with psycopg.connect(database_url, autocommit=True) as conn:
        for user in (me, other):
            create(conn, user, "old")
        conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '2 hours' "
                     'WHERE "userId" = ANY(%s)', ([me, other],))
        create(conn, me, "new")
        assert keys_of(conn, me) == {"new"}
        assert keys_of(conn, other) == {"old"}
