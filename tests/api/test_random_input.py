"""Seeded random requests: whatever arrives, the answer is a JSON 2xx/4xx, never a 500.

Deterministic (a fixed seed), so a failure reproduces; the generated values lean on the
edges that break naive code: wrong types, NUL, lone surrogates, huge and negative
numbers, odd escapes in paths and query strings.
"""

import json
import random
from urllib.parse import quote

from tests.api.clients import create_task, request

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
ODD_TEXT = ["", " ", "\x00", "\ud800", "💥", "%", "_", "\\", "'", '"', "a" * 300, "null", "0", "-1",
            "../", "%00", "%ff", "é", "\n", "NaN"]
ODD_VALUES = [None, True, False, 0, -1, 2**70, 1.5, float("inf"), "", "x", [], {}, ["low"], {"a": 1},
              "low", "high", "work", "2030-01-01T00:00:00Z", "2030-01-01", "9999-12-31T23:59:59-23:59"]
FIELDS = ["title", "description", "title", "description", "priority", "category", "dueDate", "dueDate",
          "status", "id", "userId", "x"]  # the writable text fields, where bad text does harm, twice


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(ODD_TEXT) for _ in range(rng.randint(1, 2)))


def random_body(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.7:  # mostly a valid task with one or two fields spoiled, so it reaches the database
        obj = {"title": "t", "priority": "low", "category": "work"} if rng.random() < 0.7 else {}
        for _ in range(1 if rng.random() < 0.8 else 2):
            obj[rng.choice(FIELDS)] = random_text(rng) if rng.random() < 0.6 else rng.choice(ODD_VALUES)
        return json.dumps(obj, allow_nan=True).encode("utf-8", "surrogatepass")
    if kind < 0.85:
        return json.dumps(rng.choice(ODD_VALUES), allow_nan=True).encode()
    return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40)))


def random_query(rng: random.Random) -> str:
    names = ["status", "priority", "category", "search", "sort_by", "sort_order", "z"]
    pairs = [(rng.choice(names), random_text(rng)) for _ in range(rng.randint(1, 3))]
    return "?" + "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in pairs)


def random_call(rng: random.Random, user_id: str, task_id: str) -> tuple[str, str]:
    """Mostly a real route with its own method (so input reaches the handlers), else anything."""
    segment = quote(random_text(rng).encode("utf-8", "surrogatepass"), safe="")
    tasks, task = f"/api/{user_id}/tasks", f"/api/{user_id}/tasks/{task_id}"
    if rng.random() < 0.75:
        return rng.choice([
            ("GET", tasks + random_query(rng)), ("POST", tasks), ("PUT", task), ("PUT", f"{tasks}/{segment}"),
            ("PATCH", f"{task}/complete"), ("DELETE", f"{tasks}/{segment}"), ("GET", f"/api/{user_id}/stats"),
        ])
    path = rng.choice([tasks, task, f"/api/{segment}/tasks", f"/{segment}", "/", "/health", "/ready"])
    return rng.choice(METHODS), path + (random_query(rng) if rng.random() < 0.5 else "")


def is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def test_random_requests_never_break_the_api(client, user):
    task = create_task(client, user)
    rng = random.Random(20261125)
    for _ in range(600):
        method, path = random_call(rng, user.id, task["id"])
        body = random_body(rng) if method in {"POST", "PUT", "PATCH"} else b""
        result = request(client, method, path, headers=user.headers, body=body)
        assert result.status < 500, (method, path, body, result.body)
        if result.body:
            assert is_json(result.body), (method, path, result.body)
    assert request(client, "GET", user.tasks, headers=user.headers).status == 200
