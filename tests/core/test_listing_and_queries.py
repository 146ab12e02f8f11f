"""List options and the SQL they produce: user values only ever travel as parameters."""

import pytest

from core.errors import ValidationFailed
from core.listing import ListOptions, like_pattern, parse_list_options
from core.queries import list_tasks, update_task


def test_defaults():
    assert parse_list_options(b"") == ListOptions()


def test_like_pattern_escapes_wildcards_and_backslash():
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


def test_search_travels_as_a_parameter_not_as_sql():
    query = list_tasks("alice", parse_list_options(b"search=%27%3B%20DROP%20TABLE%20tasks%3B--"), 1000)
    assert "DROP" not in query.sql
    assert query.params == ["alice", "alice", "%'; DROP TABLE tasks;--%", "%'; DROP TABLE tasks;--%", 1001]


@pytest.mark.parametrize("sort_by, expected", [
    ("createdAt", 'ORDER BY "createdAt" ASC, id ASC'),
    ("dueDate", 'ORDER BY "dueDate" ASC NULLS LAST, id ASC'),
    ("title", "ORDER BY lower(title) ASC, title ASC, id ASC"),
])
def test_order_clauses(sort_by, expected):
    query = list_tasks("u", ListOptions(sort_by=sort_by, sort_order="asc"), 1000)
    assert query.sql.endswith(f"{expected} LIMIT %s") and query.params[-1] == 1001


def test_update_sets_only_given_columns_and_bumps_updated_at():
    query = update_task("u", "id", {"description": None, "title": "x"})
    assert query.sql.startswith('UPDATE tasks SET title = %s, description = %s, "updatedAt" = greatest(')
    assert query.params == ("x", None, "id", "u")


def test_problems_are_sorted_and_located():
    with pytest.raises(ValidationFailed) as caught:
        parse_list_options(b"sort_order=up&status=done")
    assert [p.loc for p in caught.value.problems] == [("query", "sort_order"), ("query", "status")]
