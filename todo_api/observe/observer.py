"""What both frontends do around each request the API answers: count it as in flight,
then write its access line and add it to the metrics. One class, so the two cannot drift."""

from __future__ import annotations

from collections.abc import Callable

from core.plan import FetchedKeys
from core.tracing import Exchange
from storage.options import DatabaseUsage
from todo_api.config.settings import Settings
from todo_api.observe.logs import log_access
from todo_api.observe.metrics import ProcessMetrics, process_metrics


class Observer:
    """ACCESS_LOG_ENABLED and METRICS_ENABLED decide what it does; off, it costs next to nothing."""

    def __init__(self, settings: Settings) -> None:
        self.access_log_enabled = settings.access_log_enabled
        self.metrics: ProcessMetrics | None = process_metrics() if settings.metrics_enabled else None

    def __enter__(self) -> None:
        """`with observer:` around the handling of a request: it counts as in flight."""
        if self.metrics is not None:
            self.metrics.started()

    def __exit__(self, *exc_info: object) -> None:
        if self.metrics is not None:
            self.metrics.stopped()

    def finished(self, exchange: Exchange) -> None:
        if self.access_log_enabled:
            log_access(exchange)
        if self.metrics is not None:
            self.metrics.finished(exchange)

    def keys_fetched(self, fetched: FetchedKeys) -> FetchedKeys:
        return self.metrics.keys_fetched(fetched) if self.metrics is not None else fetched

    def watch_pool(self, usage: Callable[[], DatabaseUsage]) -> None:
        if self.metrics is not None:
            self.metrics.watch_pool(usage)

    def forget_pool(self, usage: Callable[[], DatabaseUsage]) -> None:
        if self.metrics is not None:
            self.metrics.forget_pool(usage)

    def exposition(self) -> bytes:
        """Every server process's metrics in Prometheus's text format."""
        return self.metrics.exposition() if self.metrics is not None else b""
