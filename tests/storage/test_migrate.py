"""Migrations on real PostgreSQL: idempotent, race-free, and linked to Better Auth's users."""

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from storage.migrate import load_migrations, migrate


def test_migrations_apply_once(create_database):
    url = create_database(migrated=False)
    assert migrate(url) == [f"{m.version:04d}_{m.name}" for m in load_migrations()]
    assert migrate(url) == []
    with psycopg.connect(url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM todo_api_migrations ORDER BY 1")]
    assert versions == [m.version for m in load_migrations()]


def test_concurrent_starters_do_not_race(create_database):
    url = create_database(migrated=False)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: migrate(url), range(6)))
    applied = [names for names in results if names]
    assert len(applied) == 1  # exactly one starter applied them; the rest found nothing to do
    assert applied[0] == [f"{m.version:04d}_{m.name}" for m in load_migrations()]


def test_schema_refuses_inconsistent_rows(database_url):
    with psycopg.connect(database_url) as conn:
        for values in [("u", " ", "low", "work"), ("u", "t", "urgent", "work"), ("u", "t", "low", "school"),
                       ("", "t", "low", "work")]:
            with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
                conn.execute('INSERT INTO tasks ("userId", title, priority, category) VALUES (%s, %s, %s, %s)',
                             values)
        with pytest.raises(psycopg.errors.GeneratedAlways), conn.transaction():
            conn.execute("""INSERT INTO tasks ("userId", title, priority, category, completed)
                            VALUES ('u', 't', 'low', 'work', true)""")


USER_TABLE = 'CREATE TABLE "user" (id text PRIMARY KEY, name text)'


def test_tasks_follow_a_deleted_better_auth_user(create_database):
    url = create_database(migrated=False)
    with psycopg.connect(url) as conn:
        conn.execute(USER_TABLE)
        conn.execute("""INSERT INTO "user" VALUES ('u1', 'Ann'), ('u2', 'Bob')""")
    migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        for owner in ["u1", "u1", "u2"]:
            conn.execute("""INSERT INTO tasks ("userId", title, priority, category)
                            VALUES (%s, 't', 'low', 'work')""", (owner,))
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("""INSERT INTO tasks ("userId", title, priority, category)
                            VALUES ('ghost', 't', 'low', 'work')""")
        conn.execute("""DELETE FROM "user" WHERE id = 'u1'""")
        owners = [r[0] for r in conn.execute('SELECT "userId" FROM tasks')]
    assert owners == ["u2"]


def test_user_table_created_later_is_linked_at_the_next_start(create_database):
    url = create_database()
    with psycopg.connect(url) as conn:
        conn.execute(USER_TABLE)
    migrate(url)
    with psycopg.connect(url) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'tasks'::regclass AND contype = 'f'")]
    assert names == ["tasks_user_fk"]


def test_standalone_database_has_no_foreign_key(database_url):
    with psycopg.connect(database_url) as conn:
        count = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'tasks'::regclass AND contype = 'f'"
        ).fetchone()[0]
    assert count == 0
