"""Live sync in a real browser (Debian's chromium under Playwright), on each frontend under
its default server: two pages signed in as one user, on another origin than the API's,
each following the change feed and reading the event stream through fetch's streaming
body (what fetch-event-source does; the browser's EventSource cannot send a token). A
change made in one page shows in the other within a second; a page of another user sees
nothing of it."""

from __future__ import annotations

import pytest

from tests.helpers import SECRET, make_token, new_user_id
from tests.served import FRONTENDS, Server
from tests.servers.test_cross_origin_browser import page_origin  # noqa: F401  (a fixture)
from tests.system_packages import require

SHOWS_WITHIN_MS = 1000

GO_LIVE = """async ([base, user, token]) => {
    const headers = {Authorization: `Bearer ${token}`};
    window.tasks = new Map();
    window.revision = 0;
    window.heard = [];
    const follow = async () => {
        const changes = await (await fetch(`${base}/api/${user}/changes?since=${window.revision}`, {headers})).json();
        for (const task of changes.tasks) window.tasks.set(task.id, task.title);
        for (const id of changes.deleted) window.tasks.delete(id);
        window.revision = Math.max(window.revision, changes.revision);
    };
    await follow();
    const answer = await fetch(`${base}/api/${user}/events`, {headers});
    const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
    (async () => {
        let text = "";
        for (;;) {
            const {value, done} = await reader.read();
            if (done) return;
            text += value;
            for (let cut; (cut = text.indexOf("\\n\\n")) >= 0; text = text.slice(cut + 2)) {
                const fields = {};
                for (const line of text.slice(0, cut).split("\\n")) {
                    if (!line.startsWith(":")) fields[line.slice(0, line.indexOf(":"))] = line.slice(line.indexOf(":") + 2);
                }
                if (fields.event === "revision") {
                    window.heard.push(Number(fields.id));
                    if (Number(fields.id) > window.revision) await follow();
                }
            }
        }
    })();
    return [answer.status, answer.headers.get("Content-Type")];
}"""

CREATE = """async ([base, user, token, title]) => {
    const answer = await fetch(`${base}/api/${user}/tasks`, {method: "POST", headers: {
        Authorization: `Bearer ${token}`, "Content-Type": "application/json"},
        body: JSON.stringify({title, priority: "high", category: "work"})});
    return (await answer.json()).id;
}"""

DELETE = """async ([base, user, token, id]) => (await fetch(`${base}/api/${user}/tasks/${id}`,
    {method: "DELETE", headers: {Authorization: `Bearer ${token}`}})).status"""


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_a_change_in_one_page_shows_in_the_other_within_a_second(frontend, database_url, tmp_path,
                                                                 page_origin):  # noqa: F811
    chromium = require(["/usr/bin/chromium"], "chromium")
    from playwright.sync_api import sync_playwright

    server = Server(frontend, tmp_path, {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": SECRET,
                                         "CORS_ORIGINS": page_origin})
    base = f"http://127.0.0.1:{server.port}"
    user, other = new_user_id(), new_user_id()
    signed_in = [base, user, make_token(user)]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            laptop, phone, stranger = (browser.new_page() for _ in range(3))
            for page, who in ((laptop, user), (phone, user), (stranger, other)):
                page.goto(page_origin)
                assert page.evaluate(GO_LIVE, [base, who, make_token(who)]) == [200, "text/event-stream"]
                page.wait_for_function("window.heard.length > 0")

            created = laptop.evaluate(CREATE, [*signed_in, "made on the laptop"])
            phone.wait_for_function("id => window.tasks.get(id) === 'made on the laptop'", arg=created,
                                    timeout=SHOWS_WITHIN_MS)
            laptop.wait_for_function("id => window.tasks.has(id)", arg=created, timeout=SHOWS_WITHIN_MS)
            assert phone.evaluate(DELETE, [*signed_in, created]) == 204
            laptop.wait_for_function("id => !window.tasks.has(id)", arg=created, timeout=SHOWS_WITHIN_MS)

            stranger.wait_for_timeout(300)
            assert stranger.evaluate("[window.tasks.size, window.heard]") == [0, [0]]
            browser.close()
    finally:
        assert server.stop() == 0, "\n".join(server.lines[-20:])
