"""Logging for server processes: one line per record on stderr; DEBUG=true for more."""

from __future__ import annotations

import logging

from todo_api.settings import Settings


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=logging.DEBUG if settings.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
