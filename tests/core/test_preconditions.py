"""Entity tags and conditional writes, in the core alone."""

import pytest

from core.errors import ApiError
from core.preconditions import entity_tags, if_match_tags, none_match
from core.queries import delete_task, toggle_task, update_task

TASK_ID = "6f1c1f55-0000-4000-8000-000000000001"


@pytest.mark.parametrize("header, tags", [
    ('"a"', [(False, "a")]),
    ('W/"a", "b"', [(True, "a"), (False, "b")]),
    (' "a" ,, "b" ', [(False, "a"), (False, "b")]),
    ("*", None),
    ("a", []),
    ('"a" "b"', []),
    ('"a\x00"', []),
])
def test_entity_tag_lists_parse_or_match_nothing(header, tags):
    assert entity_tags(header) == tags


def test_if_match_compares_strongly_and_can_be_required():
    assert if_match_tags({"if-match": 'W/"a", "b"'}, required=False) == ["b"]
    assert if_match_tags({"if-match": "*"}, required=True) is None
    assert if_match_tags({}, required=False) is None
    with pytest.raises(ApiError) as refused:
        if_match_tags({}, required=True)
    assert refused.value.status == 428


def test_if_none_match_compares_weakly():
    assert none_match('W/"a"', '"a"') and none_match("*", '"a"') and none_match('"b", "a"', '"a"')
    assert not none_match('"b"', '"a"') and not none_match(None, '"a"') and not none_match("junk", '"a"')


@pytest.mark.parametrize("build", [
    lambda tags: update_task("u", TASK_ID, {"title": "t"}, tags),
    lambda tags: toggle_task("u", TASK_ID, tags),
    lambda tags: delete_task("u", TASK_ID, tags),
])
def test_a_conditional_write_is_one_statement_that_also_says_whether_the_task_exists(build):
    plain, guarded = build(None), build(["abc"])
    assert "md5" not in plain.sql
    assert guarded.sql.startswith("WITH written AS (") and "md5(api_json) = ANY(%s)" in guarded.sql
    assert "EXISTS (SELECT 1 FROM tasks WHERE" in guarded.sql and ";" not in guarded.sql
    assert guarded.params[-3:] == (["abc"], TASK_ID, "u")
