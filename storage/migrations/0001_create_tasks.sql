-- One table holds every user's tasks; each statement the API runs filters by "userId".
CREATE TABLE tasks (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    "userId"    text NOT NULL CHECK ("userId" <> ''),
    title       varchar(255) NOT NULL CHECK (btrim(title) <> ''),
    description varchar(1000),
    priority    text NOT NULL CHECK (priority IN ('low', 'medium', 'high')),
    category    text NOT NULL CHECK (category IN ('work', 'personal', 'home', 'other')),
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed')),
    -- Derived in the database, so it can never disagree with status.
    completed   boolean GENERATED ALWAYS AS (status = 'completed') STORED,
    "dueDate"   timestamptz,
    "createdAt" timestamptz NOT NULL DEFAULT now(),
    "updatedAt" timestamptz NOT NULL DEFAULT now()
);

-- One user's list in the default order, and the prefix every per-user lookup uses.
CREATE INDEX tasks_user_created_idx ON tasks ("userId", "createdAt", id);

-- Stats read only this index (an index-only scan once vacuumed), never other users' rows.
CREATE INDEX tasks_user_stats_idx ON tasks ("userId") INCLUDE (status, priority, category, "dueDate");
