-- The stats' counters kept by row-level triggers instead of statement-level ones with
-- transition tables (migration 0002), which Citus does not run on distributed tables.
-- Same table, same numbers: each written row moves its own counter, in the shard that
-- holds the row (task_counts is co-located with tasks by "userId"). Apply it after the
-- migrations, before distributing the tables (docs/scaling.md); on plain PostgreSQL it is
-- tested (tests/storage/test_row_level_counts.py) and its cost measured (the `counts`
-- part of the load benchmark).

DROP TRIGGER task_counts_insert ON tasks;
DROP TRIGGER task_counts_update ON tasks;
DROP TRIGGER task_counts_delete ON tasks;

CREATE FUNCTION task_counts_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.status, OLD.priority, OLD.category) = (NEW.status, NEW.priority, NEW.category) THEN
        RETURN NULL;  -- a title or a date changed: no counter moves
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE task_counts SET n = n - 1
        WHERE "userId" = OLD."userId" AND status = OLD.status AND priority = OLD.priority
          AND category = OLD.category;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO task_counts AS c ("userId", status, priority, category, n)
        VALUES (NEW."userId", NEW.status, NEW.priority, NEW.category, 1)
        ON CONFLICT ("userId", status, priority, category) DO UPDATE SET n = c.n + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER task_counts_row AFTER INSERT OR UPDATE OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION task_counts_row();
