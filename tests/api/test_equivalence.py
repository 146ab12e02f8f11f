"""The same scripted session against both frontends gives the same answers.

Ids, user ids and timestamps differ between runs; they are replaced by placeholders
numbered in order of appearance, so a reordering would still show up.
"""

import re

from tests.api.clients import request
from tests.api.conftest import User
from tests.helpers import make_token, new_user_id

HEADERS_THAT_MATTER = {
    "content-type", "content-length", "location", "allow", "www-authenticate", "retry-after", "vary",
    "access-control-allow-origin", "access-control-allow-credentials",
    "access-control-allow-methods", "access-control-allow-headers",
    "access-control-expose-headers", "access-control-max-age",
}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def run_script(client):
    user = User(new_user_id())
    origin = {"Origin": "http://localhost:3000"}
    h = {**user.headers, **origin}
    transcript = []

    def step(method, path, **kwargs):
        result = request(client, method, path, **kwargs)
        transcript.append((method, path, result))
        return result

    step("GET", "/")
    step("GET", "/health")
    step("GET", "/ready")
    step("GET", "/missing")
    step("PUT", "/health")
    step("OPTIONS", user.tasks, headers={**origin, "Access-Control-Request-Method": "POST"})
    step("GET", user.tasks, headers=origin)
    step("GET", user.tasks, headers={"Authorization": "Bearer nope"})
    step("GET", user.tasks, headers={"Authorization": f"Bearer {make_token('intruder')}"})
    step("GET", user.tasks, headers=[("Authorization", h["Authorization"])] * 2)
    first = step("POST", user.tasks, headers=h, json={"title": "One", "priority": "high", "category": "work",
                                                     "dueDate": "2001-01-01T00:00:00Z"}).json()
    step("POST", user.tasks, headers=h, json={"title": "Two", "priority": "low", "category": "home",
                                             "description": "2nd"})
    step("POST", user.tasks, headers=h, json={"title": "", "priority": "x", "userId": "me"})
    step("POST", user.tasks, headers=h, body=b"{not json")
    step("POST", user.tasks, headers=h, body=b"x" * (65 * 1024))
    step("GET", f"{user.tasks}?sort_by=priority&sort_order=asc", headers=h)
    step("GET", f"{user.tasks}?search=2ND", headers=h)
    step("GET", f"{user.tasks}?sort_by=nope", headers=h)
    step("PUT", user.task(first["id"]), headers=h, json={"description": None, "dueDate": None})
    step("PATCH", user.task(first["id"], "/complete"), headers=h)
    step("GET", user.stats, headers=h)
    step("GET", user.task("not-a-uuid"), headers=h)
    step("DELETE", user.task(first["id"]), headers=h)
    step("DELETE", user.task(first["id"]), headers=h)
    step("HEAD", user.tasks, headers=h)
    return user, transcript


def normalized(user, transcript):
    names: dict[str, str] = {}

    def name(match):
        return names.setdefault(match.group(0), f"<id{len(names)}>")

    def clean(text):
        text = text.replace(user.id, "<user>")
        text = TIMESTAMP.sub("<time>", text)
        return UUID.sub(name, text)

    rows = []
    for method, path, result in transcript:
        headers = {k: clean(v) for k, v in result.headers.items() if k in HEADERS_THAT_MATTER}
        rows.append((method, clean(path), result.status, headers, clean(result.body.decode())))
    return rows


def test_both_frontends_answer_the_same_script_identically(frontend_factory):
    flask_rows = normalized(*run_script(frontend_factory("flask")))
    quart_rows = normalized(*run_script(frontend_factory("quart")))
    assert len(flask_rows) == len(quart_rows)
    for flask_row, quart_row in zip(flask_rows, quart_rows, strict=True):
        assert flask_row == quart_row
