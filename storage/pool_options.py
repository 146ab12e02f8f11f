"""The settings both pools share, so the sync and async drivers cannot drift apart."""

from __future__ import annotations

from typing import Any


def pool_options(min_size: int, max_size: int, timeout: float) -> dict[str, Any]:
    """Autocommit connections (each plan statement is atomic on its own), opened lazily."""
    return {
        "min_size": min_size,
        "max_size": max_size,
        "timeout": timeout,
        "kwargs": {"autocommit": True},
        "open": False,
        "name": "todo-api",
    }
