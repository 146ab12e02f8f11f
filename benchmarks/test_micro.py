"""Micro benchmarks: the core alone, and one in-process request through each frontend,
standalone (`create_app`) and hosted (`init_app` at a prefix in a host app: what embedding costs).

`uv run pytest benchmarks --benchmark-enable` measures; plain `uv run pytest` runs each
once as a smoke test (benchmarking is disabled by default in pyproject).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from werkzeug.datastructures import Headers

from core import Api, Request
from core.auth import Authenticator, ClaimRules
from core.keys import KeyStore
from core.listing import parse_list_options
from core.plan import FetchedKeys
from core.queries import list_tasks
from core.token_cache import TokenCache
from tests.api.clients import Call, create_task, make_client
from tests.api.conftest import User
from tests.core.drive import an_exchange, drive, settle
from tests.helpers import SECRET, make_token, new_user_id
from todo_api.config.settings import Settings

TASK_ROW = json.dumps({
    "id": "6f1c1f55-0000-4000-8000-000000000001", "title": "A task title of ordinary length",
    "description": "Some words about it", "priority": "medium", "category": "work", "status": "pending",
    "completed": False, "dueDate": None, "createdAt": "2026-11-25T14:07:19.123456Z",
    "updatedAt": "2026-11-25T14:07:19.123456Z", "userId": "user-123",
})
API = Api(Authenticator(secret=SECRET))
TOKEN = make_token("alice")


def test_build_filtered_list_plan(benchmark: Any) -> None:
    query = b"status=pending&sort_by=priority&search=milk"
    benchmark(lambda: list_tasks("alice", parse_list_options(query), 1000))


@pytest.mark.parametrize("rows", [25, 100])
def test_list_request_through_the_core(benchmark: Any, rows: int) -> None:
    answer = [(1, TASK_ROW)] * rows  # (the user's revision, the task's JSON)
    request = Request("GET", "/api/alice/tasks", b"", {"authorization": f"Bearer {TOKEN}"})
    response, _ = benchmark(lambda: drive(API.handle(request), lambda q: answer))
    assert response.status == 200


@pytest.mark.parametrize("cache_size", [0, 10_000], ids=["uncached", "cached"])
def test_verify_hs256_token(benchmark: Any, cache_size: int) -> None:
    authenticator = Authenticator(secret=SECRET, cache=TokenCache(cache_size))
    headers = {"authorization": f"Bearer {TOKEN}"}
    assert benchmark(lambda: settle(authenticator.authenticate(headers, an_exchange()))) == "alice"


@pytest.mark.parametrize("cache_size", [0, 10_000], ids=["uncached", "cached"])
def test_verify_eddsa_token_from_jwks(benchmark: Any, cache_size: int) -> None:
    """Better Auth's default: Ed25519 through a JWKS (already fetched, as in steady state)."""
    from tests.api.issuer import SigningKey

    key = SigningKey("kid-1", "ed25519")
    store = KeyStore("http://issuer.test/jwks")
    store.finish_fetch(FetchedKeys(json.dumps({"keys": [key.jwk]}).encode()), time.time())
    authenticator = Authenticator(keys=store, jwks_rules=ClaimRules("http://issuer.test", "http://issuer.test"),
                                  cache=TokenCache(cache_size))
    claims = {"sub": "alice", "iss": "http://issuer.test", "aud": "http://issuer.test",
              "exp": int(time.time()) + 900}
    token = jwt.encode(claims, key.private, algorithm="EdDSA", headers={"kid": "kid-1"})
    headers = {"authorization": f"Bearer {token}"}
    assert benchmark(lambda: settle(authenticator.authenticate(headers, an_exchange()))) == "alice"


@pytest.fixture(scope="module", params=["flask", "flask-hosted", "quart", "quart-hosted"])
def loaded_client(request: pytest.FixtureRequest, settings: Settings) -> Iterator[tuple[Any, User]]:
    client = make_client(request.param, settings)
    user = User(new_user_id())
    for n in range(25):
        create_task(client, user, title=f"task {n}", priority=("low", "medium", "high")[n % 3])
    yield client, user
    client.close()


@pytest.mark.parametrize("endpoint", ["tasks", "stats"])
def test_in_process_request(benchmark: Any, loaded_client: tuple[Any, User], endpoint: str) -> None:
    client, user = loaded_client
    call = Call("GET", f"/api/{user.id}/{endpoint}", Headers(user.headers))
    result = benchmark(client.send, call)
    assert result.status == 200
