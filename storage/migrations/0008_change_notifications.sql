-- Live sync (GET /api/{user_id}/events): each change to a user's tasks notifies the
-- channel todo_api_changes with "<revision> <user id>". PostgreSQL delivers it to every
-- listening session when the transaction commits, and drops it with a rollback, so a
-- server process that LISTENs learns of each committed change once, in commit order,
-- without a query (storage/fanout.py). Behind a transaction-mode pooler, where LISTEN
-- cannot work, processes poll task_revisions instead and these notifications go unheard.

CREATE OR REPLACE FUNCTION task_revision_next(user_id text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    given bigint;
BEGIN
    INSERT INTO task_revisions AS r ("userId", revision) VALUES (user_id, nextval('task_revision_seq'))
    ON CONFLICT ("userId") DO UPDATE SET revision = nextval('task_revision_seq')
    RETURNING revision INTO given;
    PERFORM pg_notify('todo_api_changes', given || ' ' || user_id);
    RETURN given;
END $$;

CREATE OR REPLACE FUNCTION task_revisions_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE task_revisions SET revision = nextval('task_revision_seq');
    UPDATE task_revisions SET kept_since = revision;
    DELETE FROM task_tombstones;
    PERFORM pg_notify('todo_api_changes', revision || ' ' || "userId") FROM task_revisions;
    RETURN NULL;
END $$;
