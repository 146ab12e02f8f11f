"""The API has no websocket routes: an upgrade request is refused with a JSON 404, not a 500."""

import asyncio

import pytest
from quart.testing import WebsocketResponseError

from todo_api.serve.frontends import FRONTENDS


def test_websocket_upgrade_is_a_json_404(settings):
    app = FRONTENDS["quart"].create_app(settings)

    async def attempt():
        async with app.test_app():
            async with app.test_client().websocket("/api/someone/tasks") as socket:
                await socket.receive()

    with pytest.raises(WebsocketResponseError) as refused:
        asyncio.run(attempt())
    assert refused.value.response.status_code == 404
    assert asyncio.run(refused.value.response.get_json()) == {"detail": "Not Found"}
