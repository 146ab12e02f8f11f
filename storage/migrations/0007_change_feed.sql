-- The change feed (GET /api/{user_id}/changes?since=R): each task carries the revision of
-- its last change, and each delete leaves a tombstone with the revision of the delete.
--
-- Revisions are given under the user's row lock in task_revisions, and the next one is
-- drawn only once that lock is held (nextval in DO UPDATE, not in VALUES). The lock is
-- kept until commit, so one user's revisions are given in commit order: a statement that
-- sees the user's revision R sees every change numbered up to R, and a client that read
-- up to R misses nothing that commits later. (0005 drew the value before waiting for
-- the lock, which could number two concurrent changes against their commit order.)
--
-- kept_since: the feed is complete for any `since` at or above it. Tombstones beyond
-- the kept time or count are pruned after each delete (core/queries.py, a statement of
-- its own), which raises it; a truncate raises it to the new revision.

ALTER TABLE task_revisions ADD COLUMN kept_since bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION task_revision_next(user_id text) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    INSERT INTO task_revisions AS r ("userId", revision) VALUES (user_id, nextval('task_revision_seq'))
    ON CONFLICT ("userId") DO UPDATE SET revision = nextval('task_revision_seq')
    RETURNING revision
$$;

ALTER TABLE tasks ADD COLUMN revision bigint;
DROP TRIGGER task_revisions_insert ON tasks;
DROP TRIGGER task_revisions_update ON tasks;
DROP TRIGGER task_revisions_delete ON tasks;
DROP FUNCTION task_revisions_move();

UPDATE tasks AS t SET revision = r.revision FROM task_revisions AS r WHERE r."userId" = t."userId";
ALTER TABLE tasks ALTER COLUMN revision SET NOT NULL;
CREATE INDEX tasks_user_revision_idx ON tasks ("userId", revision);

CREATE FUNCTION task_revision_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := task_revision_next(NEW."userId");
    RETURN NEW;
END $$;

CREATE TRIGGER task_revision_stamp BEFORE INSERT OR UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION task_revision_stamp();

CREATE TABLE task_tombstones (
    "userId"   text NOT NULL,
    revision   bigint NOT NULL,
    id         uuid NOT NULL,
    deleted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("userId", revision)
);

-- Row-level and BEFORE, like the stamp: every statement takes the user's revision lock
-- before the counters' (0002's statement-level AFTER triggers), so a delete and an update
-- of one user never wait on each other in opposite orders.
CREATE FUNCTION task_tombstone_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_tombstones ("userId", revision, id)
    VALUES (OLD."userId", task_revision_next(OLD."userId"), OLD.id);
    RETURN OLD;
END $$;

CREATE TRIGGER task_tombstone_record BEFORE DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION task_tombstone_record();

CREATE OR REPLACE FUNCTION task_revisions_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE task_revisions SET revision = nextval('task_revision_seq');
    UPDATE task_revisions SET kept_since = revision;
    DELETE FROM task_tombstones;
    RETURN NULL;
END $$;
