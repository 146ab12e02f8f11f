-- Run after the versioned migrations, on every start: when Better Auth's "user" table
-- exists in this database (now or later), tasks follow their owner's deletion.
DO $$
BEGIN
    IF to_regclass('"user"') IS NOT NULL
       AND EXISTS (
           SELECT 1 FROM pg_attribute
           WHERE attrelid = to_regclass('"user"') AND attname = 'id' AND NOT attisdropped
             AND format_type(atttypid, atttypmod) IN ('text', 'character varying')
       )
       AND NOT EXISTS (
           SELECT 1 FROM pg_constraint
           WHERE conname = 'tasks_user_fk' AND conrelid = to_regclass('tasks')
       )
    THEN
        ALTER TABLE tasks ADD CONSTRAINT tasks_user_fk
            FOREIGN KEY ("userId") REFERENCES "user" (id) ON DELETE CASCADE;
    END IF;
END
$$;
