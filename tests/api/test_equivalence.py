"""The same scripted session against every frontend, standalone and embedded, gives the
same answers, byte for byte: an ordinary session, then an adversarial one at the seam
between HTTP and the core (repeated headers, broken lengths, bodies over the limit or
not UTF-8, bodies on GET, odd paths, HEAD and OPTIONS).

Ids, user ids, timestamps and where the API is mounted differ between runs; they are
replaced by placeholders numbered in order of appearance, so a reordering still shows.
"""

import re

from core.http import MAX_BODY_BYTES
from tests.api.clients import api_path, request
from tests.api.conftest import CLIENTS, User
from tests.helpers import make_token, new_user_id

HEADERS_THAT_MATTER = {
    "content-type", "content-length", "location", "allow", "www-authenticate", "retry-after", "vary",
    "etag", "link", "x-truncated",
    "access-control-allow-origin", "access-control-allow-credentials",
    "access-control-allow-methods", "access-control-allow-headers",
    "access-control-expose-headers", "access-control-max-age",
}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ETAG = re.compile(r'"[0-9a-f]{32}"|"r\d+-\d+"')
CURSOR = re.compile(r"cursor=[A-Za-z0-9_-]+")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


ORIGIN = {"Origin": "http://localhost:3000"}


def run_script(client):
    user = User(new_user_id())
    origin = ORIGIN
    h = {**user.headers, **origin}
    transcript = []

    def step(method, path, **kwargs):
        result = request(client, method, path, **kwargs)
        transcript.append((method, path, result))
        return result

    step.client = client

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
    adversarial(step, user, h)
    return user, transcript


def adversarial(step, user, h):
    task = b'{"title": "t", "priority": "low", "category": "work"}'
    large = b'{"title": "' + b"x" * (2 * MAX_BODY_BYTES) + b'"}'
    created = step("POST", user.tasks, headers=[*h.items(), ("Content-Type", "text/plain"),
                                                ("Content-Type", "application/json")], body=task)
    step("GET", api_path(step.client, created.header("location")), headers=h)
    for lengths in (["53", "53"], ["53", "54"], ["x"], ["-1"]):
        step("POST", user.tasks, headers=[*h.items(), *(("Content-Length", n) for n in lengths)], body=task)
    step("POST", user.tasks, headers=h, body=large)
    step("POST", user.tasks, headers={**h, "Transfer-Encoding": "chunked"}, body=large)
    step("POST", user.tasks, headers={**h, "Transfer-Encoding": "chunked"}, body=task)
    step("POST", user.tasks, headers={"Transfer-Encoding": "chunked"}, body=large)  # 401 first
    step("POST", user.tasks, headers=h, body=b'{"title": "\xff", "priority": "low", "category": "work"}')
    step("POST", user.tasks, headers=h, body=b"\xef\xbb\xbf" + task)  # a UTF-8 byte order mark
    step("PUT", user.task(created.json()["id"]), headers=h, body=b"\x00")
    step("GET", user.tasks, headers=h, body=b'{"title": "ignored"}')
    step("GET", user.stats, headers=h, body=large)
    step("DELETE", user.task(created.json()["id"]), headers=h, body=large)
    for path in ("//health", "/health/", f"{user.tasks}/", f"/api/{user.id}%2Ftasks", "/api/%2E%2E/tasks",
                 f"/api/{user.id}/../{user.id}/stats", "/api/./health", "/%00", "/api//tasks", "/héllo",
                 f"/api/{user.id}/tasks?sort_by=%ff", f"/api/{user.id}/tasks/%20"):
        step("GET", path, headers=h)
    for method in ("HEAD", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "get"):
        step(method, user.stats, headers={**h, **ORIGIN})
    step("HEAD", "/nope")
    versioned(step, user, h)
    step("OPTIONS", "/nope", headers={**ORIGIN, "Access-Control-Request-Method": "GET"})
    for path in ("/openapi.json", "/docs", "/docs/init.js", "/docs/swagger-ui.css", "/docs/nope.js"):
        step("GET", path)


def normalized(client, user, transcript):
    names: dict[str, str] = {}

    def name(match):
        return names.setdefault(match.group(0), f"<id{len(names)}>")

    def clean(text):
        text = text.replace(f'"url": "{client.base}"', '"url": "/"') if client.base else text  # servers
        text = text.replace(user.id, "<user>")
        text = CURSOR.sub("cursor=<cursor>", ETAG.sub('"<etag>"', text))
        text = TIMESTAMP.sub("<time>", text)
        return UUID.sub(name, text)

    rows = []
    for method, path, result in transcript:
        headers = {k: clean(v) for k, v in result.headers.items() if k in HEADERS_THAT_MATTER}
        if path == "/openapi.json":
            headers.pop("content-length")  # its servers' URL is where the client mounted the API
        for name in ("location", "link"):
            if name in headers:
                headers[name] = headers[name].replace(client.base + "/api/", "<base>/api/")
        rows.append((method, clean(path), result.status, headers, clean(result.body.decode())))
    return rows


def test_every_frontend_answers_the_same_script_identically(frontend_factory):
    transcripts = {}
    for name in CLIENTS:
        client = frontend_factory(name)
        transcripts[name] = normalized(client, *run_script(client))
    first, *others = CLIENTS
    for other in others:
        assert len(transcripts[other]) == len(transcripts[first])
        for expected, row in zip(transcripts[first], transcripts[other], strict=True):
            assert row == expected, other


def versioned(step, user, h):
    """ETags, preconditions, pages and retries: the same headers and statuses everywhere."""
    task = step("POST", user.tasks, headers={**h, "Idempotency-Key": "once"},
                json={"title": "Versioned", "priority": "low", "category": "work"})
    step("POST", user.tasks, headers={**h, "Idempotency-Key": "once"},
         json={"title": "Versioned", "priority": "low", "category": "work"})
    step("POST", user.tasks, headers={**h, "Idempotency-Key": "once"}, json={"title": "Other"})
    step("POST", user.tasks, headers={**h, "Idempotency-Key": "two words"}, json={"title": "x"})
    path, etag = user.task(task.json()["id"]), task.header("etag")
    step("GET", path, headers={**h, "If-None-Match": etag})
    step("PUT", path, headers={**h, "If-Match": '"stale"'}, json={"title": "y"})
    step("PUT", path, headers={**h, "If-Match": etag}, json={"title": "y"})
    step("PATCH", path + "/complete", headers=h, json={"completed": True})
    step("PATCH", path + "/complete", headers=h, json={"completed": "yes"})
    listed = step("GET", f"{user.tasks}?limit=1&sort_by=title", headers=h)
    step("GET", user.tasks, headers={**h, "If-None-Match": listed.header("etag")})
    step("GET", f"{user.tasks}?limit=0", headers=h)
    step("GET", f"{user.tasks}?limit=1&cursor=nope", headers=h)
