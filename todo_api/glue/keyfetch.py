"""Fetching a JWKS document over HTTP: the I/O behind the core's `FetchKeys`.

Sync for the Flask frontend; the async variant runs the same call in a worker thread,
so Quart's event loop never blocks on the Better Auth server.
"""

from __future__ import annotations

import asyncio
import http.client
import urllib.request

from core.keys import MAX_JWKS_BYTES
from core.plan import FetchedKeys, FetchKeys

TIMEOUT_SECONDS = 5.0


def fetch_keys(request: FetchKeys, timeout: float = TIMEOUT_SECONDS) -> FetchedKeys:
    http_request = urllib.request.Request(request.url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(http_request, timeout=timeout) as response:
            return FetchedKeys(response.read(MAX_JWKS_BYTES + 1))
    except (OSError, ValueError, http.client.HTTPException) as error:  # refused, timeout, 4xx/5xx
        return FetchedKeys(None, f"{type(error).__name__}: {error}")


async def fetch_keys_async(request: FetchKeys) -> FetchedKeys:
    return await asyncio.to_thread(fetch_keys, request)
