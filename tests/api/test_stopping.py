"""Once `serve` has begun stopping this process (its stop file exists): `/ready` answers 503, and
every answer carries `Connection: close`; before, neither. On all four clients."""

import time

from storage.fanout import STOP_FILE
from tests.api.clients import request
from todo_api.glue.stopping import CHECK_SECONDS


def test_a_stopping_process_is_not_ready_and_closes_connections(frontend_factory, client, user, monkeypatch,
                                                                tmp_path):
    stop_file = tmp_path / "stopping"
    monkeypatch.setenv(STOP_FILE, str(stop_file))
    api = frontend_factory(client.name)
    assert request(api, "GET", "/ready").status == 200
    listed = request(api, "GET", user.tasks, headers=user.headers)
    assert (listed.status, listed.header("connection")) == (200, None)

    stop_file.touch()
    time.sleep(CHECK_SECONDS * 1.5)
    ready = request(api, "GET", "/ready")
    assert (ready.status, ready.json()) == (503, {"detail": "This instance is stopping; send requests to another"})
    for method, path in [("GET", user.tasks), ("GET", user.stats), ("GET", "/health"), ("GET", "/nowhere")]:
        answer = request(api, method, path, headers=user.headers)
        assert answer.header("connection") == "close", path
    assert request(api, "GET", user.tasks, headers=user.headers).status == 200  # still answering
