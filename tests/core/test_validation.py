"""Task body validation without HTTP: values, defaults and problem locations."""

from datetime import UTC, datetime

import pytest

from core.errors import ValidationFailed
from core.tasks import validate_create, validate_update


def test_create_fills_optional_fields_with_null():
    values = validate_create(b'{"title": "t", "priority": "low", "category": "home"}')
    assert values == {"title": "t", "priority": "low", "category": "home",
                      "description": None, "dueDate": None}


def test_update_keeps_only_what_was_sent():
    assert validate_update(b'{"description": null}') == {"description": None}
    assert validate_update(b"{}") == {}


@pytest.mark.parametrize("text, expected", [
    ("2030-01-31T17:00:00Z", datetime(2030, 1, 31, 17, tzinfo=UTC)),
    ("2030-01-31T17:00:00.123Z", datetime(2030, 1, 31, 17, 0, 0, 123000, tzinfo=UTC)),
    ("2030-01-31t17:00:00z", datetime(2030, 1, 31, 17, tzinfo=UTC)),
    ("2030-01-31T17:00:00.123456789+02:00", datetime(2030, 1, 31, 15, 0, 0, 123456, tzinfo=UTC)),
    ("2030-01-31 17:00:00-05:30", datetime(2030, 1, 31, 22, 30, tzinfo=UTC)),
])
def test_due_dates_in_rfc3339_forms_become_utc(text, expected):
    values = validate_update(f'{{"dueDate": "{text}"}}'.encode())
    assert values["dueDate"] == expected


@pytest.mark.parametrize("text", ["2030-01-31", "2030-01-31T17:00Z", "20300131T170000Z",
                                  "2030-01-31T17:00:00", "2030-13-01T00:00:00Z", "2030-01-31T25:00:00Z"])
def test_other_date_forms_are_refused(text):
    with pytest.raises(ValidationFailed) as caught:
        validate_update(f'{{"dueDate": "{text}"}}'.encode())
    assert [p.loc for p in caught.value.problems] == [("body", "dueDate")]


def test_booleans_are_not_enum_values():
    with pytest.raises(ValidationFailed):
        validate_update(b'{"priority": true}')
