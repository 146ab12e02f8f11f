"""Every SQL statement the API runs, each scoped to one user's rows.

PostgreSQL renders each task (and the stats) as JSON text, so the Python tier passes
bytes through instead of building and re-encoding dictionaries. A task's JSON is
stored with the row (timestamps in UTC with an explicit `Z`); the stats are built per
request from the user's counters.
"""

from __future__ import annotations

import functools
from typing import Any, Literal
from uuid import UUID

import attrs

from core.listing import ListOptions, like_pattern
from core.pages import After
from core.plan import Query
from core.tasks import CATEGORIES, FIELD, FIELDS, PRIORITIES, WRITABLE, Field

TASK_JSON = "api_json"
"""Each task as the API answers it: a column PostgreSQL renders whenever the row is
written (migration 0003), so reading a list renders nothing."""

OWNED_TASK = 'id = %s AND "userId" = %s'

LATER = 'greatest(now(), "updatedAt" + interval \'1 microsecond\')'
NEXT_UPDATED_AT = f'"updatedAt" = {LATER}'
"""`updatedAt` always moves forward, even for two writes within one clock tick."""

COLUMNS = {field.name: field.sql_column for field in WRITABLE}
"""What a client may write, by JSON name: the SQL columns of create and update."""
SORT_KEYS = {field.name: field.sort_keys for field in FIELDS if field.sortable}
NULLABLE = frozenset(field.name for field in FIELDS if field.nullable)

RENDERED_TASK = (
    "json_build_object(" + ", ".join(f"'{field.name}', {field.sql_value}" for field in FIELDS) + ")::text"
)
"""A task's JSON from its columns, as the field table says: what `task_json` (the stored
`api_json`, migration 0003) must compute, which a test checks row by row. A migration
that changes a field's rendering writes this expression into its new `task_json`."""

READY = Query("SELECT 1")


REVISION = 'coalesce((SELECT revision FROM task_revisions WHERE "userId" = %s), 0)'
"""The user's revision (migration 0005): it moves with every change to their tasks."""


def revision(user_id: str) -> Query:
    return Query(f"SELECT {REVISION}", (user_id,))


def resume_after(field: Field, ascending: bool, after_null: bool) -> str:
    """The keyset condition for the tasks after a cursor's position in the list's order
    (its sort keys, then id). Undated tasks come last either way: after a dated position
    they all follow; after an undated one, only those with a later id do."""
    later = ">" if ascending else "<"
    if after_null:
        return f"({field.sql_column} IS NULL AND id {later} %s::uuid)"
    mine = ", ".join((*field.sort_keys, "id"))
    theirs = ", ".join((*field.sort_keys_of(f"%s::{field.sql_type}"), "%s::uuid"))
    condition = f"({mine}) {later} ({theirs})"
    return f"({condition} OR {field.sql_column} IS NULL)" if field.nullable else condition


@functools.cache
def list_sql(filters: tuple[str, ...], search: bool, sort_by: str, sort_order: str,
             after: Literal["value", "null"] | None = None) -> str:
    """The list statement for one shape of request (a few dozen shapes in all, built once each).

    A row per task: the user's revision (an uncorrelated subquery, computed once, in the
    same snapshot as the tasks, so the ETag is the answer's) and the task's JSON. Rows,
    not one array: a worst-case list as one array value cost the workers several times
    its size in memory, which the allocator then kept (the write-timeout test saw it).
    Its last parameter is the LIMIT: one more than an answer may hold, to tell a full
    answer from a cut one."""
    conditions = ['"userId" = %s'] + [f"{FIELD[name].sql_column} = %s" for name in filters]
    if search:
        conditions.append("(title ILIKE %s ESCAPE '\\' OR description ILIKE %s ESCAPE '\\')")
    if after is not None:
        conditions.append(resume_after(FIELD[sort_by], sort_order == "asc", after == "null"))
    direction = "ASC" if sort_order == "asc" else "DESC"
    order = [f"{key} {direction}" for key in SORT_KEYS[sort_by]]
    if sort_by in NULLABLE:
        order = [f"{order[0]} NULLS LAST"]
    order.append(f"id {direction}")
    where, ordered = " AND ".join(conditions), ", ".join(order)
    return f"SELECT {REVISION}, {TASK_JSON} FROM tasks WHERE {where} ORDER BY {ordered} LIMIT %s"


def list_tasks(user_id: str, options: ListOptions, max_items: int, after: After | None = None) -> Query:
    """Up to `max_items` tasks (one more is asked for, to tell whether more follow),
    after a cursor's position when there is one."""
    filters = tuple(name for name, _ in options.filters)
    params: list[Any] = [user_id] + [value for _, value in options.filters]
    if options.search is not None:
        pattern = like_pattern(options.search)
        params += [pattern, pattern]
    shape: Literal["value", "null"] | None = None
    if after is not None:
        shape = "null" if after.value is None else "value"
        keys = len(FIELD[options.sort_by].sort_keys)
        params += [after.task_id] if after.value is None else [*([after.value] * keys), after.task_id]
    sql = list_sql(filters, options.search is not None, options.sort_by, options.sort_order, shape)
    return Query(sql, [user_id, *params, max_items + 1])


def get_task(user_id: str, task_id: UUID) -> Query:
    return Query(f"SELECT {TASK_JSON} FROM tasks WHERE {OWNED_TASK}", (task_id, user_id))


INSERT_SQL = (
    f'INSERT INTO tasks ("userId", {", ".join(COLUMNS.values())}) '
    f"SELECT %s, {', '.join(['%s'] * len(COLUMNS))} WHERE task_slot_free(%s, %s) "
    f"RETURNING id::text, {TASK_JSON}"
)


def create_task(user_id: str, values: dict[str, Any], max_tasks: int) -> Query:
    """No row (and no task) when the user already has `max_tasks`: see migration 0004."""
    return Query(INSERT_SQL, (user_id, *(values[name] for name in COLUMNS), user_id, max_tasks))


def create_task_once(user_id: str, values: dict[str, Any], max_tasks: int, key: str, digest: str,
                     ttl_seconds: float) -> Query:
    """A create under an Idempotency-Key, in one statement: the task, and the key's row
    holding the answer (migration 0006). When the key is there already (or being written
    by a concurrent request, which this one waits for), its unique index fails the whole
    statement: nothing is created, and the caller replays the stored answer. A few of the
    user's expired keys are pruned on the way (the user's only: every statement names its
    tenant, docs/scaling.md)."""
    return Query(
        f"WITH created AS ({INSERT_SQL}), "
        'kept AS (INSERT INTO idempotency_keys ("userId", key, digest, task_id, body) '
        f"SELECT %s, %s, %s, id::uuid, {TASK_JSON} FROM created), "
        'pruned AS (DELETE FROM idempotency_keys WHERE "userId" = %s AND ctid IN (SELECT ctid '
        'FROM idempotency_keys WHERE "userId" = %s AND created_at < now() - make_interval(secs => %s) '
        "LIMIT 10)) SELECT * FROM created",
        (user_id, *(values[name] for name in COLUMNS), user_id, max_tasks, user_id, key, digest,
         user_id, user_id, ttl_seconds),
    )


def stored_answer(user_id: str, key: str, ttl_seconds: float) -> Query:
    """An Idempotency-Key's row: the body's digest, the task id, the first answer, and
    whether it has expired."""
    return Query(
        "SELECT digest, task_id::text, body, created_at < now() - make_interval(secs => %s) "
        'FROM idempotency_keys WHERE "userId" = %s AND key = %s',
        (ttl_seconds, user_id, key),
    )


def forget_key(user_id: str, key: str) -> Query:
    return Query('DELETE FROM idempotency_keys WHERE "userId" = %s AND key = %s', (user_id, key))


def guarded(statement: str, params: tuple[Any, ...], user_id: str, task_id: UUID,
            tags: list[str] | None) -> Query:
    """A write of one owned task (`statement` ends in its WHERE, then RETURNING one
    column), made conditional on the task's ETag in the same statement: the row answers
    (what was written or None, whether the task exists), so 412 and 404 are told apart
    without a read before the write. PostgreSQL re-checks the tag on the row version it
    writes, so of two writers holding one tag only the first succeeds."""
    if tags is None:
        return Query(statement, params)
    where, returning = statement.rsplit(" RETURNING ", 1)
    conditional = f"{where} AND md5({TASK_JSON}) = ANY(%s) RETURNING {returning}"
    return Query(
        f"WITH written AS ({conditional}) "
        f"SELECT (SELECT * FROM written), EXISTS (SELECT 1 FROM tasks WHERE {OWNED_TASK})",
        (*params, tags, task_id, user_id),
    )


def update_task(user_id: str, task_id: UUID, values: dict[str, Any], tags: list[str] | None = None) -> Query:
    names = [name for name in COLUMNS if name in values]  # the table's order: fewer distinct plans
    assignments = [f"{COLUMNS[name]} = %s" for name in names] + [NEXT_UPDATED_AT]
    return guarded(
        f"UPDATE tasks SET {', '.join(assignments)} WHERE {OWNED_TASK} RETURNING {TASK_JSON}",
        (*(values[name] for name in names), task_id, user_id), user_id, task_id, tags,
    )


@attrs.frozen(slots=True)
class DeletionsKept:
    """How long, and how many per user, deletions stay in the change feed."""

    seconds: float
    per_user: int


def delete_task(user_id: str, task_id: UUID, tags: list[str] | None = None) -> Query:
    """The delete leaves a tombstone for the change feed (migration 0007's trigger)."""
    statement = f"DELETE FROM tasks WHERE {OWNED_TASK} RETURNING id"
    return guarded(statement, (task_id, user_id), user_id, task_id, tags)


def prune_deletions(user_id: str, kept: DeletionsKept) -> Query:
    """The user's tombstones older than the kept time or past the kept count (the newest
    are kept) are deleted, and the feed's `kept_since` raised past them. A statement of
    its own, after a delete: it locks nothing a write waits on while holding another."""
    sql = (
        'WITH pruned AS (DELETE FROM task_tombstones WHERE "userId" = %s'
        " AND (deleted_at < now() - make_interval(secs => %s) OR revision <= ("
        '  SELECT revision FROM task_tombstones WHERE "userId" = %s'
        "  ORDER BY revision DESC OFFSET %s LIMIT 1))"
        " RETURNING revision) "
        "UPDATE task_revisions SET kept_since = greatest(kept_since, (SELECT max(revision) FROM pruned))"
        ' WHERE "userId" = %s AND EXISTS (SELECT 1 FROM pruned) RETURNING kept_since'
    )
    return Query(sql, (user_id, kept.seconds, user_id, kept.per_user, user_id))


def changes(user_id: str, since: int, limit: int) -> Query:
    """The user's revision and where the feed is complete from, then up to `limit` + 1
    changes after `since`, in revision order: tasks (their JSON) and tombstones (the id).
    One snapshot: every change numbered up to the revision read is in it (0007)."""
    sql = (
        "SELECT s.revision, s.kept_since, c.revision, c.deleted, c.body FROM ("
        "SELECT coalesce(max(revision), 0), coalesce(max(kept_since), 0) "
        'FROM task_revisions WHERE "userId" = %s) AS s (revision, kept_since) '
        "LEFT JOIN LATERAL ("
        f'(SELECT revision, false AS deleted, {TASK_JSON} AS body FROM tasks WHERE "userId" = %s'
        " AND revision > %s ORDER BY revision LIMIT %s) UNION ALL "
        '(SELECT revision, true, id::text FROM task_tombstones WHERE "userId" = %s'
        " AND revision > %s ORDER BY revision LIMIT %s) ORDER BY revision LIMIT %s"
        ") AS c ON true ORDER BY c.revision"
    )
    more = limit + 1
    return Query(sql, (user_id, user_id, since, more, user_id, since, more, more))


def toggle_task(user_id: str, task_id: UUID, tags: list[str] | None = None) -> Query:
    """One atomic statement: concurrent toggles serialize on the row lock, none is lost."""
    return guarded(
        "UPDATE tasks SET status = CASE status WHEN 'completed' THEN 'pending' "
        f"ELSE 'completed' END, {NEXT_UPDATED_AT} WHERE {OWNED_TASK} RETURNING {TASK_JSON}",
        (task_id, user_id), user_id, task_id, tags,
    )


def set_completion(user_id: str, task_id: UUID, completed: bool, tags: list[str] | None = None) -> Query:
    """The state set, not flipped: repeating it changes nothing (`updatedAt`, and so the
    JSON and its ETag, move only when the status does). It answers the row as it is
    after the lock, whatever a concurrent writer did first."""
    status = "completed" if completed else "pending"
    return guarded(
        f'UPDATE tasks SET status = %s, "updatedAt" = CASE WHEN status = %s THEN "updatedAt" ELSE {LATER} END'
        f" WHERE {OWNED_TASK} RETURNING {TASK_JSON}",
        (status, status, task_id, user_id), user_id, task_id, tags,
    )


def total_where(condition: str) -> str:
    return f"coalesce(sum(n) FILTER (WHERE {condition}), 0)"


def breakdown(column: str, values: tuple[str, ...]) -> str:
    pairs = ", ".join(f"'{v}', {total_where(f'{column} = {v!r}')}" for v in values)
    return f"json_build_object({pairs})"


PENDING = total_where("status = 'pending'")
COMPLETED = total_where("status = 'completed'")
OVERDUE = """(SELECT count(*) FROM tasks WHERE "userId" = %s AND status = 'pending' AND "dueDate" < now())"""
STATS_SQL = (
    "SELECT json_build_object("
    "'total', coalesce(sum(n), 0), "
    f"'pending', {PENDING}, "
    f"'completed', {COMPLETED}, "
    f"'overdue', {OVERDUE}, "
    f"'byPriority', {breakdown('priority', PRIORITIES)}, "
    f"'byCategory', {breakdown('category', CATEGORIES)}"
    ')::text FROM task_counts WHERE "userId" = %s'
)


def task_stats(user_id: str) -> Query:
    """One statement over the user's counters (kept by triggers, see migration 0002) and
    an index-only count of their overdue tasks: no task row is read."""
    return Query(STATS_SQL, (user_id, user_id))


CHANGES_CHANNEL = "todo_api_changes"
"""What migration 0008 notifies on each change to a user's tasks: "<revision> <user id>",
delivered to every listening session when the change commits."""
LISTEN_FOR_CHANGES = Query(f"LISTEN {CHANGES_CHANNEL}")


def revisions_of(user_ids: list[str]) -> Query:
    """The revisions of these users (those a process streams to): its one statement per
    interval behind a pooler, and its catch-up after a lost connection."""
    return Query('SELECT "userId", revision FROM task_revisions WHERE "userId" = ANY(%s)', (user_ids,))


def notified_change(payload: str) -> tuple[str, int] | None:
    """(user id, revision) from a notification on CHANGES_CHANNEL; None for anything else."""
    revision, _, user_id = payload.partition(" ")
    if not user_id or not revision.isdigit():
        return None
    return user_id, int(revision)
