-- Whether a user may create one more task, decided exactly under concurrency: creates of
-- one user queue on a transaction-scoped advisory lock (released at commit, and safe
-- behind a transaction-mode pooler), and the count is read after the lock is held. This
-- function is VOLATILE, so under READ COMMITTED that count is read with a fresh snapshot
-- and sees every create that committed before the lock was granted.
-- The two-integer lock keys are a space apart from the migrations' one-bigint key.
CREATE FUNCTION task_slot_free(user_id text, max_tasks bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(x'7A5C'::int, hashtext(user_id));
    RETURN (SELECT coalesce(sum(n), 0) FROM task_counts WHERE "userId" = user_id) < max_tasks;
END $$;
