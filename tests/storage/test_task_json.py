"""The JSON stored with each task (migration 0003) always says what the row says.

Each check renders the expected JSON in Python from the row's own columns, so the
stored text is compared with an independent rendering, not with itself.
"""

import json
from datetime import UTC, datetime

import psycopg

from core.preconditions import task_etag
from core.queries import RENDERED_TASK
from storage.migrate import migrate

COLUMNS = 'id, "userId", title, description, priority, category, status, "dueDate", "createdAt", "updatedAt"'
TRICKY_TITLE = 'quote " backslash \\ newline \n tab \t control \x01 line-sep \u2028 é 😀 </script>'


def utc(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rendered_and_expected(conn: psycopg.Connection, task_id: object) -> tuple[object, dict[str, object]]:
    query = f"SELECT api_json, {COLUMNS} FROM tasks WHERE id = %s"
    row = conn.execute(query, (task_id,), binary=True).fetchone()  # binary: whatever the DateStyle
    assert row is not None
    stored, id_, user, title, description, priority, category, status, due, created, updated = row
    expected = {
        "id": str(id_), "title": title, "description": description, "priority": priority,
        "category": category, "status": status, "completed": status == "completed",
        "dueDate": utc(due), "createdAt": utc(created), "updatedAt": utc(updated), "userId": user,
    }
    return json.loads(stored), expected


def test_stored_json_is_the_row_in_utc_whatever_the_session_settings(database_url):
    odd_session = "-c TimeZone=Pacific/Chatham -c DateStyle=SQL,DMY -c IntervalStyle=sql_standard"
    with psycopg.connect(database_url, autocommit=True, options=odd_session) as conn:
        (task_id,) = conn.execute(
            'INSERT INTO tasks ("userId", title, description, priority, category, "dueDate") '
            "VALUES (%s, %s, NULL, 'high', 'home', '2026-03-01 12:34:56.000001+13:45') RETURNING id",
            ('user "with" quotes\\', TRICKY_TITLE),
        ).fetchone()
        stored, expected = rendered_and_expected(conn, task_id)
    assert stored == expected
    assert stored["dueDate"] == "2026-02-28T22:49:56.000001Z"
    assert stored["title"] == TRICKY_TITLE


def test_every_write_renders_the_row_again(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        (task_id,) = conn.execute(
            'INSERT INTO tasks ("userId", title, priority, category, "dueDate") '
            "VALUES ('rerender', 'first', 'low', 'work', now()) RETURNING id"
        ).fetchone()
        changes = [
            "title = 'second', description = 'now described'",
            "status = 'completed'",
            '"dueDate" = NULL, priority = \'medium\'',
            '"updatedAt" = "updatedAt" + interval \'1 second\'',
        ]
        for change in changes:
            conn.execute(f"UPDATE tasks SET {change} WHERE id = %s", (task_id,))
            stored, expected = rendered_and_expected(conn, task_id)
            assert stored == expected, change
        assert stored["completed"] is True and stored["dueDate"] is None


def test_existing_tasks_get_their_json_when_the_migration_runs(create_database):
    url = create_database(migrated=False)
    migrate(url, up_to=2)
    with psycopg.connect(url, autocommit=True) as conn:
        ids = [conn.execute('INSERT INTO tasks ("userId", title, priority, category) '
                            "VALUES ('early', %s, 'low', 'work') RETURNING id", (title,)).fetchone()[0]
               for title in ("one", TRICKY_TITLE)]
    assert "0003_task_json" in migrate(url)
    with psycopg.connect(url) as conn:
        for task_id in ids:
            stored, expected = rendered_and_expected(conn, task_id)
            assert stored == expected


def test_the_field_table_renders_exactly_what_is_stored(database_url):
    """core.tasks.FIELDS says how each field renders (`queries.RENDERED_TASK`); the stored
    JSON must be that text, byte for byte, or the table and the migrations have drifted."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        for title, description, due in [(TRICKY_TITLE, None, None), ("t", "d", "2026-03-01 12:34:56.5+13:45")]:
            conn.execute(
                'INSERT INTO tasks ("userId", title, description, priority, category, "dueDate") '
                "VALUES ('table-check', %s, %s, 'low', 'work', %s)", (title, description, due))
        conn.execute("UPDATE tasks SET status = 'completed' WHERE title = 't' AND \"userId\" = 'table-check'")
        rows = conn.execute(f"SELECT api_json, {RENDERED_TASK} FROM tasks WHERE \"userId\" = 'table-check'").fetchall()
    assert len(rows) == 2
    for stored, rendered in rows:
        assert stored == rendered


def test_postgresql_computes_the_same_etag_as_the_api(database_url):
    """Conditional writes compare `md5(api_json)` in SQL with the ETag the API answered."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute('INSERT INTO tasks ("userId", title, priority, category) VALUES (%s, %s, %s, %s)',
                     ("etag-check", TRICKY_TITLE, "low", "work"))
        stored, md5 = conn.execute("SELECT api_json, md5(api_json) FROM tasks WHERE \"userId\" = 'etag-check'"
                                   ).fetchone()
    assert task_etag(stored.encode()) == f'"{md5}"'
