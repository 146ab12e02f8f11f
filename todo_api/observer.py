"""What both frontends do around each request the API answers: count it as in flight,
then write its access line and add it to the metrics. One class, so the two cannot drift."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from core.keys import FetchedKeys
from core.tracing import Exchange
from storage.options import PoolUsage
from todo_api.logs import log_access
from todo_api.metrics import ProcessMetrics, process_metrics
from todo_api.settings import Settings


class Observer:
    """ACCESS_LOG and METRICS_ENABLED decide what it does; off, it costs next to nothing."""

    def __init__(self, settings: Settings) -> None:
        self.access_log = settings.access_log
        self.metrics: ProcessMetrics | None = process_metrics() if settings.metrics_enabled else None

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        if self.metrics is None:
            yield
            return
        self.metrics.active.inc()
        try:
            yield
        finally:
            self.metrics.active.dec()

    def finished(self, exchange: Exchange, pool: PoolUsage | None = None) -> None:
        if self.access_log:
            log_access(exchange)
        if self.metrics is not None:
            self.metrics.finished(exchange, pool)

    def keys_fetched(self, fetched: FetchedKeys) -> FetchedKeys:
        return self.metrics.keys_fetched(fetched) if self.metrics is not None else fetched

    def exposition(self) -> bytes:
        """Every server process's metrics in Prometheus's text format."""
        return self.metrics.exposition() if self.metrics is not None else b""
