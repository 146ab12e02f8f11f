"""The OpenAPI document from the core's tables: every route and operation, and the
limits the core enforces stated from the same constants."""

from core.api import ROUTES
from core.auth import MAX_USER_ID_LENGTH
from core.http import MAX_BODY_BYTES
from core.openapi import ERROR_MEANINGS, openapi_document
from core.tasks import FIELDS

DOCUMENT = openapi_document(ROUTES)


def test_every_documented_route_and_operation_is_in_the_document():
    for route in ROUTES:
        if route.documented:
            item = DOCUMENT["paths"][route.pattern]
            assert {method.lower() for method in route.operations} <= set(item)
            for method, operation in route.operations.items():
                assert item[method.lower()]["operationId"] == operation.id


def test_every_status_an_operation_answers_has_a_meaning():
    for item in DOCUMENT["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                for status in operation["responses"]:
                    assert int(status) < 400 or int(status) in ERROR_MEANINGS


def test_the_user_id_and_body_limits_are_the_core_s():
    task_path = DOCUMENT["paths"]["/api/{user_id}/tasks"]
    (user_id,) = [p for p in task_path["parameters"] if p["name"] == "user_id"]
    assert user_id["schema"]["maxLength"] == MAX_USER_ID_LENGTH
    assert str(MAX_BODY_BYTES) in task_path["post"]["responses"]["413"]["description"]


def test_every_field_is_in_the_task_schema():
    task = DOCUMENT["components"]["schemas"]["Task"]["properties"]
    assert set(task) == {field.name for field in FIELDS}


def test_writes_need_a_bearer_token_and_public_routes_do_not():
    assert DOCUMENT["paths"]["/api/{user_id}/tasks"]["post"]["security"] == [{"bearerAuth": []}]
    assert "security" not in DOCUMENT["paths"]["/health"]["get"] or DOCUMENT["paths"]["/health"]["get"][
        "security"] == []
