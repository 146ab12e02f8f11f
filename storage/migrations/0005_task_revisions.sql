-- A revision per user that moves whenever any of the user's tasks changes, in the same
-- transaction as the change: a client polling its list or stats sends the ETag built
-- from it and gets a 304 from this one row, without the tasks being read. Revisions come
-- from one sequence, so a value is never reused (not even after all tasks are deleted);
-- statement-level triggers move each touched user once per statement, in key order (no
-- deadlock between concurrent statements).
CREATE SEQUENCE task_revision_seq;

CREATE TABLE task_revisions (
    "userId" text PRIMARY KEY,
    revision bigint NOT NULL
);

INSERT INTO task_revisions ("userId", revision)
SELECT "userId", nextval('task_revision_seq') FROM (SELECT DISTINCT "userId" FROM tasks) AS users;

CREATE FUNCTION task_revisions_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_revisions AS r ("userId", revision)
    SELECT "userId", nextval('task_revision_seq') FROM (
        SELECT "userId" FROM changed_rows GROUP BY 1 ORDER BY 1
    ) AS users
    ON CONFLICT ("userId") DO UPDATE SET revision = excluded.revision;
    RETURN NULL;
END $$;

-- The transition table is named changed_rows in each trigger, so one function serves all.
CREATE TRIGGER task_revisions_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION task_revisions_move();
CREATE TRIGGER task_revisions_update AFTER UPDATE ON tasks
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION task_revisions_move();
CREATE TRIGGER task_revisions_delete AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION task_revisions_move();

CREATE FUNCTION task_revisions_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE task_revisions SET revision = nextval('task_revision_seq');
    RETURN NULL;
END $$;

CREATE TRIGGER task_revisions_truncate AFTER TRUNCATE ON tasks
    FOR EACH STATEMENT EXECUTE FUNCTION task_revisions_after_truncate();
