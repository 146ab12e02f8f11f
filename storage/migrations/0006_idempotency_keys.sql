-- Idempotent creates (Idempotency-Key, draft-ietf-httpapi-idempotency-key-header): the
-- first answer to a key, written by the same statement that creates the task, so a key
-- exists exactly when its task was made. A retry with the key finds it here and gets
-- that answer again; keys are per user, and expire after IDEMPOTENCY_KEY_TTL (pruned by
-- the creates themselves, a few at a time, so no job is needed).
CREATE TABLE idempotency_keys (
    "userId"   text NOT NULL,
    key        text NOT NULL,
    digest     text NOT NULL,      -- of the request body: the same key with another body is refused
    task_id    uuid NOT NULL,
    body       text NOT NULL,      -- the task's JSON as first answered
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("userId", key)
);

CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
