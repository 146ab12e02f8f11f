"""The per-user revision (migration 0005) moves with every change to a user's tasks, in
the same transaction, and with nothing else."""

import psycopg

from storage.migrate import migrate

REVISION = 'SELECT revision FROM task_revisions WHERE "userId" = %s'


def revision_of(conn, user):
    row = conn.execute(REVISION, (user,)).fetchone()
    return None if row is None else row[0]


def test_every_write_moves_its_users_revision_and_no_one_elses(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute('INSERT INTO tasks ("userId", title, priority, category) VALUES '
                     "('rev-a', 'a1', 'low', 'work'), ('rev-a', 'a2', 'low', 'work'), ('rev-b', 'b1', 'low', 'work')")
        seen = [revision_of(conn, "rev-a")]
        other = revision_of(conn, "rev-b")
        for change in ("UPDATE tasks SET title = 'x' WHERE \"userId\" = 'rev-a'",
                       "UPDATE tasks SET status = 'completed' WHERE title = 'x' AND \"userId\" = 'rev-a'",
                       "DELETE FROM tasks WHERE \"userId\" = 'rev-a'"):
            conn.execute(change)
            seen.append(revision_of(conn, "rev-a"))
        assert len(set(seen)) == len(seen) and seen == sorted(seen)
        assert revision_of(conn, "rev-b") == other
        with conn.transaction():
            conn.execute("INSERT INTO tasks (\"userId\", title, priority, category) VALUES ('rev-a', 'n', 'low', 'work')")
            conn.execute("INSERT INTO tasks (\"userId\", title, priority, category) VALUES ('rev-a', 'm', 'low', 'work')")
        assert revision_of(conn, "rev-a") > seen[-1]


def test_existing_users_get_a_revision_when_the_migration_runs(create_database):
    url = create_database(migrated=False)
    migrate(url, up_to=4)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO tasks (\"userId\", title, priority, category) VALUES ('early', 't', 'low', 'work')")
    assert "0005_task_revisions" in migrate(url)
    with psycopg.connect(url) as conn:
        assert revision_of(conn, "early") is not None
