"""The API has no websocket routes: an upgrade request is refused with a JSON 404, not a 500."""

import asyncio

import pytest
from quart.testing import WebsocketResponseError

from tests.api.clients import QuartClient


def test_websocket_upgrade_is_a_json_404(frontend_factory):
    quart_client = frontend_factory("quart")
    assert isinstance(quart_client, QuartClient)

    async def attempt():
        async with quart_client.app.test_client().websocket("/api/someone/tasks") as socket:
            await socket.receive()

    with pytest.raises(WebsocketResponseError) as refused:
        quart_client.run(attempt())
    assert refused.value.response.status_code == 404
    assert asyncio.run(refused.value.response.get_json()) == {"detail": "Not Found"}
