"""`/docs` in a real headless browser (Debian's chromium, driven by Playwright, which
downloads no browser of its own), on each frontend under its default server: the page
renders every operation, loads nothing from elsewhere, and "Authorize" with a token then
"Try it out" on the stats gets a 200. `DOCS_SCREENSHOT=<file>` saves the page for the README.
"""

from __future__ import annotations

import os

import pytest

from core.api import ROUTES
from tests.helpers import SECRET, make_token, new_user_id
from tests.served import FRONTENDS, Server
from tests.system_packages import require

WAIT_MS = 20_000


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_the_docs_page_works_in_a_browser(frontend, database_url, tmp_path):
    chromium = require(["/usr/bin/chromium"], "chromium")
    from playwright.sync_api import sync_playwright

    server = Server(frontend, tmp_path, {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET})
    origin = f"http://127.0.0.1:{server.port}"
    user = new_user_id()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            elsewhere: list[str] = []
            page.on("request", lambda sent: None if sent.url.startswith(origin) else elsewhere.append(sent.url))
            page.goto(f"{origin}/docs")
            page.wait_for_selector(".opblock", timeout=WAIT_MS)
            shown = set(page.locator(".opblock-summary-path").all_inner_texts())
            assert shown == {route.pattern for route in ROUTES if route.documented}
            if os.environ.get("DOCS_SCREENSHOT"):
                page.screenshot(path=os.environ["DOCS_SCREENSHOT"])

            page.click("button.authorize")
            page.fill(".modal-ux input", make_token(user))
            page.locator(".modal-ux button.authorize").click()
            page.locator(".modal-ux button.btn-done").click()
            stats = page.locator("#operations-default-taskStats")
            stats.locator(".opblock-summary").click()
            stats.locator("button.try-out__btn").click()
            stats.locator("input[placeholder='user_id']").fill(user)
            stats.locator("button.execute").click()
            status = stats.locator(".live-responses-table tbody .response-col_status").first
            status.wait_for(timeout=WAIT_MS)
            assert status.inner_text().strip() == "200"
            assert '"total": 0' in stats.locator(".live-responses-table .microlight").first.inner_text()
            page.screenshot(path=str(tmp_path / "docs.png"))
            browser.close()
        assert elsewhere == []
    finally:
        assert server.stop() == 0, "\n".join(server.lines)
