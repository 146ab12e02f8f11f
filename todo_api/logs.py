"""Logging for server processes: one line per record on stderr; DEBUG=true for more."""

from __future__ import annotations

import logging
import os

from todo_api.settings import parse_bool


def configure_logging() -> None:
    debug = parse_bool("DEBUG", os.environ.get("DEBUG", ""))
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
