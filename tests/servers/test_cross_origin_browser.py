"""What a page on another origin can read of the API's answers, in a real browser
(Debian's chromium under Playwright), on each frontend under its default server.

A frontend backs off as told only if the browser lets it read `Retry-After` on a 503, and
tells "signed out" from "forbidden" by `WWW-Authenticate` on a 401: both must be exposed
to the page by CORS. And each answer says how it may be cached (docs/api.md).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from psycopg.conninfo import make_conninfo

from benchmarks.load.latency import upstream_of
from benchmarks.load.latency_proxy import LatencyProxy
from tests.helpers import SECRET, make_token, new_user_id
from tests.served import FRONTENDS, Server, free_port
from tests.system_packages import require

PAGE = b"<!doctype html><title>another origin</title><p>a frontend elsewhere</p>"

READ_ANSWER = """async ([url, token]) => {
    const answer = await fetch(url, {headers: token ? {Authorization: `Bearer ${token}`} : {}});
    const read = name => answer.headers.get(name);
    return {status: answer.status, retryAfter: read("Retry-After"), wwwAuthenticate: read("WWW-Authenticate"),
            cacheControl: read("Cache-Control"), requestId: read("X-Request-ID")};
}"""


class PageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def page_origin() -> Iterator[str]:
    """A page served from another origin than the API's (localhost, not 127.0.0.1)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), PageHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_a_page_elsewhere_reads_retry_after_www_authenticate_and_cache_control(
        frontend, database_url, tmp_path, page_origin):
    chromium = require(["/usr/bin/chromium"], "chromium")
    from playwright.sync_api import sync_playwright

    proxy = LatencyProxy(upstream_of(database_url), 0).start()
    database = make_conninfo(database_url, host="127.0.0.1", port=proxy.port)
    server = Server(frontend, tmp_path, {"DATABASE_URL": database, "BETTER_AUTH_SECRET": SECRET,
                                         "CORS_ORIGINS": page_origin, "DB_POOL_TIMEOUT_SECONDS": "1"})
    user = new_user_id()
    tasks = f"http://127.0.0.1:{server.port}/api/{user}/tasks"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(page_origin)
            listed = page.evaluate(READ_ANSWER, [tasks, make_token(user)])
            signed_out = page.evaluate(READ_ANSWER, [tasks, None])
            proxy.stop()  # the database goes away
            unavailable = page.evaluate(READ_ANSWER, [tasks, make_token(user)])
            browser.close()
    finally:
        proxy.stop()
        assert server.stop() == 0, "\n".join(server.lines)
    assert [(listed["status"], listed["cacheControl"]), (signed_out["status"], signed_out["wwwAuthenticate"]),
            (unavailable["status"], unavailable["retryAfter"])] == [
        (200, "private, no-cache"), (401, "Bearer"), (503, "5")]
    assert listed["requestId"]
