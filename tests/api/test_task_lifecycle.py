"""Create, read, update, toggle and delete one task, with the statuses and bodies of each."""

import time
import uuid
from datetime import datetime

from tests.api.clients import api_path, create_task, request

TASK_KEYS = {
    "id", "title", "description", "priority", "category", "status", "completed",
    "dueDate", "createdAt", "updatedAt", "userId",
}


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None, text
    return moment


def test_create_answers_201_the_task_and_its_location(client, user):
    body = {"title": "Write report", "description": "Q3 numbers", "priority": "high",
            "category": "work", "dueDate": "2030-01-31T17:00:00+01:00"}
    result = request(client, "POST", user.tasks, headers=user.headers, json=body)
    assert result.status == 201
    task = result.json()
    assert set(task) == TASK_KEYS
    uuid.UUID(task["id"])
    assert result.header("location") == f"{client.base}/api/{user.id}/tasks/{task['id']}"
    assert task["title"] == "Write report"
    assert task["description"] == "Q3 numbers"
    assert (task["priority"], task["category"]) == ("high", "work")
    assert (task["status"], task["completed"]) == ("pending", False)
    assert task["userId"] == user.id
    assert parse_time(task["dueDate"]) == parse_time("2030-01-31T16:00:00Z")
    assert parse_time(task["createdAt"]) == parse_time(task["updatedAt"])


def test_location_encodes_an_unusual_user_id(client):
    from tests.api.conftest import User

    user = User("ann smith@example.com")
    result = request(client, "POST", "/api/ann%20smith@example.com/tasks", headers=user.headers,
                     json={"title": "t", "priority": "low", "category": "work"})
    assert result.status == 201
    assert result.header("location") == f"{client.base}/api/ann%20smith@example.com/tasks/{result.json()['id']}"
    assert request(client, "GET", api_path(client, result.header("location")), headers=user.headers).status == 200


def test_optional_fields_default_to_null(client, user):
    task = create_task(client, user)
    assert task["description"] is None
    assert task["dueDate"] is None


def test_location_leads_to_the_task(client, user):
    created = request(client, "POST", user.tasks, headers=user.headers,
                      json={"title": "t", "priority": "low", "category": "home"})
    fetched = request(client, "GET", api_path(client, created.header("location")), headers=user.headers)
    assert fetched.status == 200
    assert fetched.json() == created.json()


def test_get_unknown_or_malformed_id_is_404(client, user):
    create_task(client, user)
    for task_id in [str(uuid.uuid4()), "not-a-uuid", "1", "' OR 1=1 --",
                    uuid.uuid4().hex, "{" + str(uuid.uuid4()) + "}"]:
        for method, suffix in [("GET", ""), ("PUT", ""), ("DELETE", ""), ("PATCH", "/complete")]:
            result = request(client, method, user.task(task_id, suffix), headers=user.headers,
                             json={"title": "x"} if method == "PUT" else None)
            assert result.status == 404, (task_id, method)
            assert result.json() == {"detail": "Task not found"}


def test_a_task_has_one_spelling_of_its_id(client, user):
    task_id = create_task(client, user)["id"]
    digits = task_id.replace("-", "")
    other_spellings = [  # 36 characters each, all of which UUID() reads as this task's id
        "{" + digits + "}--",
        f"{digits[:4]}-{digits[4:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:]}",
    ]
    for spelling in other_spellings:
        assert request(client, "GET", user.task(spelling), headers=user.headers).status == 404, spelling
    assert request(client, "GET", user.task(task_id.upper()), headers=user.headers).json()["id"] == task_id


def test_update_changes_only_the_given_fields(client, user):
    task = create_task(client, user, title="Old", description="keep me", priority="low",
                       dueDate="2030-05-01T00:00:00Z")
    time.sleep(0.002)
    result = request(client, "PUT", user.task(task["id"]), headers=user.headers,
                     json={"title": "New", "priority": "high"})
    assert result.status == 200
    updated = result.json()
    assert updated["title"] == "New"
    assert updated["priority"] == "high"
    assert updated["description"] == "keep me"
    assert updated["category"] == task["category"]
    assert updated["dueDate"] == task["dueDate"]
    assert updated["createdAt"] == task["createdAt"]
    assert parse_time(updated["updatedAt"]) > parse_time(task["updatedAt"])
    again = request(client, "GET", user.task(task["id"]), headers=user.headers).json()
    assert again == updated


def test_update_with_null_clears_description_and_due_date(client, user):
    task = create_task(client, user, description="text", dueDate="2030-05-01T00:00:00Z")
    updated = request(client, "PUT", user.task(task["id"]), headers=user.headers,
                      json={"description": None, "dueDate": None}).json()
    assert updated["description"] is None
    assert updated["dueDate"] is None


def test_due_dates_at_the_edges_of_the_range_are_stored_in_utc(client, user):
    """The first and last days accepted, with the largest offsets, still fit every date type."""
    earliest = create_task(client, user, dueDate="0001-01-02T00:00:00+23:59")
    latest = create_task(client, user, dueDate="9999-12-30T23:59:59.999999-23:59")
    assert earliest["dueDate"] == "0001-01-01T00:01:00.000000Z"
    assert latest["dueDate"] == "9999-12-31T23:58:59.999999Z"
    listed = request(client, "GET", user.tasks + "?sort_by=dueDate&sort_order=asc", headers=user.headers).json()
    assert [task["dueDate"] for task in listed] == [earliest["dueDate"], latest["dueDate"]]


def test_empty_update_keeps_the_fields_and_moves_updated_at(client, user):
    task = create_task(client, user)
    updated = request(client, "PUT", user.task(task["id"]), headers=user.headers, json={}).json()
    assert {k: v for k, v in updated.items() if k != "updatedAt"} == {
        k: v for k, v in task.items() if k != "updatedAt"}
    assert parse_time(updated["updatedAt"]) > parse_time(task["updatedAt"])


def test_toggle_flips_status_and_completed_together(client, user):
    task = create_task(client, user)
    first = request(client, "PATCH", user.task(task["id"], "/complete"), headers=user.headers)
    assert first.status == 200
    assert (first.json()["status"], first.json()["completed"]) == ("completed", True)
    assert parse_time(first.json()["updatedAt"]) > parse_time(task["updatedAt"])
    second = request(client, "PATCH", user.task(task["id"], "/complete"), headers=user.headers)
    assert (second.json()["status"], second.json()["completed"]) == ("pending", False)


def test_delete_answers_204_then_the_task_is_gone(client, user):
    task = create_task(client, user)
    result = request(client, "DELETE", user.task(task["id"]), headers=user.headers)
    assert result.status == 204
    assert result.body == b""
    assert result.header("content-type") is None
    assert request(client, "GET", user.task(task["id"]), headers=user.headers).status == 404
    assert request(client, "DELETE", user.task(task["id"]), headers=user.headers).status == 404


def test_text_round_trips_exactly(client, user):
    title = "  Ünïcödé ✓ 漢字 emoji 🎉 \"quotes\" \\ back\\slash </script> "
    task = create_task(client, user, title=title, description="line1\nline2\ttab")
    assert task["title"] == title
    assert task["description"] == "line1\nline2\ttab"
    fetched = request(client, "GET", user.task(task["id"]), headers=user.headers).json()
    assert fetched["title"] == title


def test_limits_are_inclusive(client, user):
    task = create_task(client, user, title="t" * 255, description="d" * 1000)
    assert len(task["title"]) == 255
    assert len(task["description"]) == 1000
