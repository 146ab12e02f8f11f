-- Stats read per-user counters instead of counting the user's tasks: a user with 10,000
-- tasks costs what a user with 25 does. Statement-level triggers keep the counters exact
-- inside the same transaction as the change (COPY and multi-row statements included).
CREATE TABLE task_counts (
    "userId" text NOT NULL,
    status   text NOT NULL,
    priority text NOT NULL,
    category text NOT NULL,
    n        bigint NOT NULL,
    PRIMARY KEY ("userId", status, priority, category)
);

INSERT INTO task_counts ("userId", status, priority, category, n)
SELECT "userId", status, priority, category, count(*) FROM tasks GROUP BY 1, 2, 3, 4;

-- Each trigger sums its transition rows per counter and applies them in key order, so
-- concurrent changes lock counters in one order (no deadlock) and unchanged counters are
-- not touched (a title edit writes none).
CREATE FUNCTION task_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_counts AS c ("userId", status, priority, category, n)
    SELECT "userId", status, priority, category, count(*) FROM new_rows
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT ("userId", status, priority, category) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE FUNCTION task_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_counts AS c ("userId", status, priority, category, n)
    SELECT "userId", status, priority, category, -count(*) FROM old_rows
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT ("userId", status, priority, category) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE FUNCTION task_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_counts AS c ("userId", status, priority, category, n)
    SELECT "userId", status, priority, category, sum(delta) FROM (
        SELECT "userId", status, priority, category, -1 AS delta FROM old_rows
        UNION ALL
        SELECT "userId", status, priority, category, 1 FROM new_rows
    ) AS changes
    GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT ("userId", status, priority, category) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE FUNCTION task_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE task_counts;
    RETURN NULL;
END $$;

CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION task_counts_after_insert();
CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION task_counts_after_delete();
CREATE TRIGGER task_counts_update AFTER UPDATE ON tasks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION task_counts_after_update();
CREATE TRIGGER task_counts_truncate AFTER TRUNCATE ON tasks
    FOR EACH STATEMENT EXECUTE FUNCTION task_counts_after_truncate();

-- Overdue depends on the clock, so it is counted, but only over pending tasks with a due date.
CREATE INDEX tasks_user_pending_due_idx ON tasks ("userId", "dueDate") WHERE status = 'pending';
DROP INDEX tasks_user_stats_idx;
