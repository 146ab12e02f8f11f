"""The per-user counters behind stats stay equal to a recount, whatever changes the tasks."""

import random
from concurrent.futures import ThreadPoolExecutor

import psycopg

from storage.migrate import migrate

RECOUNT = """
SELECT "userId", status, priority, category, count(*) FROM tasks GROUP BY 1, 2, 3, 4
EXCEPT SELECT "userId", status, priority, category, n FROM task_counts WHERE n <> 0
UNION ALL
(SELECT "userId", status, priority, category, n FROM task_counts WHERE n <> 0
 EXCEPT SELECT "userId", status, priority, category, count(*) FROM tasks GROUP BY 1, 2, 3, 4)
"""
INSERT = 'INSERT INTO tasks ("userId", title, priority, category) VALUES (%s, %s, %s, %s) RETURNING id'


def test_counters_match_a_recount_after_every_kind_of_change(create_database):
    url = create_database()
    rng = random.Random(3)
    with psycopg.connect(url, autocommit=True) as conn:
        ids = [conn.execute(INSERT, (f"u{n % 3}", "t", rng.choice(["low", "high"]), "work")).fetchone()[0]
               for n in range(30)]
        conn.execute("""INSERT INTO tasks ("userId", title, priority, category)
                        SELECT 'u-bulk', 't' || g, 'medium', 'home' FROM generate_series(1, 50) g""")
        for task_id in ids[:10]:
            conn.execute("UPDATE tasks SET status = 'completed' WHERE id = %s", (task_id,))
        conn.execute("UPDATE tasks SET priority = 'high', category = 'other' WHERE \"userId\" = 'u1'")
        conn.execute("UPDATE tasks SET title = 'renamed' WHERE \"userId\" = 'u2'")  # counters untouched
        conn.execute("UPDATE tasks SET \"userId\" = 'u9' WHERE id = %s", (ids[11],))
        conn.execute("DELETE FROM tasks WHERE id = ANY(%s)", (ids[20:25],))
        conn.execute("DELETE FROM tasks WHERE \"userId\" = 'u-bulk' AND title LIKE 't1%'")
        with conn.transaction(force_rollback=True):
            conn.execute(INSERT, ("u0", "rolled back", "low", "work"))
        assert conn.execute(RECOUNT).fetchall() == []
        conn.execute("TRUNCATE tasks")
        assert conn.execute("SELECT count(*) FROM task_counts").fetchone() == (0,)


def test_concurrent_opposite_toggles_do_not_deadlock(create_database):
    url = create_database()
    with psycopg.connect(url, autocommit=True) as conn:
        ids = [conn.execute(INSERT, ("busy", "t", "low", "work")).fetchone()[0] for _ in range(16)]
        conn.execute("UPDATE tasks SET status = 'completed' WHERE id = ANY(%s)", (ids[::2],))

    def toggle(task_id):
        with psycopg.connect(url, autocommit=True) as conn:
            for _ in range(10):
                conn.execute("""UPDATE tasks SET status = CASE status WHEN 'completed' THEN 'pending'
                                ELSE 'completed' END WHERE id = %s""", (task_id,))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(toggle, ids))
    with psycopg.connect(url) as conn:
        assert conn.execute(RECOUNT).fetchall() == []


def test_existing_tasks_are_counted_when_the_migration_runs(create_database):
    url = create_database(migrated=False)
    migrate(url, up_to=1)
    with psycopg.connect(url, autocommit=True) as conn:
        for priority in ["low", "low", "high"]:
            conn.execute(INSERT, ("early", "t", priority, "work"))
    assert migrate(url)[0] == "0002_task_counts"
    with psycopg.connect(url) as conn:
        assert conn.execute(RECOUNT).fetchall() == []
        assert conn.execute("SELECT sum(n) FROM task_counts WHERE \"userId\" = 'early'").fetchone() == (3,)
