"""The tenant check the suite's PostgreSQL log is held to (tests/statements.py) sees what it must."""

import re

from core import queries
from tests.statements import EXEMPT, placeholders, untenanted


def server_form(sql: str) -> str:
    """`%s` placeholders numbered as PostgreSQL logs them."""
    numbers = iter(range(1, 1000))
    return re.sub("%s", lambda _: f"${next(numbers)}", sql)


def test_statements_that_name_their_tenant_pass():
    good = [
        'SELECT api_json FROM tasks WHERE id = $1 AND "userId" = $2',
        'INSERT INTO tasks ("userId", title) VALUES ($1, $2)',
        'SELECT coalesce((SELECT revision FROM task_revisions WHERE "userId" = $1), 0), api_json '
        'FROM tasks WHERE "userId" = $2',
        "SELECT 1",
    ]
    assert untenanted(good) == []


def test_statements_that_do_not_are_caught():
    bad = [
        "SELECT count(*) FROM tasks",
        'SELECT api_json FROM tasks WHERE "userId" = $1 AND id IN (SELECT task_id FROM idempotency_keys)',
        "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys LIMIT 10)",
        'UPDATE task_counts SET n = 0 WHERE "userId" <> $1',
    ]
    assert untenanted(bad) == sorted(bad)


def test_only_the_named_exemptions_pass_across_users():
    poll = server_form(queries.revisions_of(["a", "b"]).sql)
    assert placeholders(poll) in EXEMPT.values()
    assert untenanted([poll]) == []
