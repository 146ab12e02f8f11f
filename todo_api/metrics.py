"""Counting the core's metrics (`core.metrics`) with prometheus-client, in every server process.

One scrape must count every worker's requests, so under `todo-api serve` each process
writes its values to files in PROMETHEUS_MULTIPROC_DIR (a fresh directory per start)
and a scrape, answered by any worker, sums them (prometheus-client's multiprocess mode).
Without that variable (one process, or tests), values live in memory. The choice is made
when prometheus-client is first imported, so `serve` sets the variable before any import.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from core import metrics
from core.keys import FetchedKeys
from core.metrics import Metric
from core.tracing import Exchange
from storage.options import PoolUsage

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
LIVE_GAUGE: Literal["livesum"] = "livesum"
"""A gauge's value is the sum over the processes alive (a dead worker's files are dropped)."""


def instrument(metric: Metric, registry: CollectorRegistry | None) -> Any:
    """The prometheus-client object for one row of the core's table."""
    labels = metric.labels
    if metric.kind == "histogram":
        buckets = metrics.DURATION_BUCKETS
        return Histogram(metric.name, metric.help, labels, registry=registry, buckets=buckets)
    if metric.kind == "gauge":
        return Gauge(metric.name, metric.help, labels, registry=registry, multiprocess_mode=LIVE_GAUGE)
    return Counter(metric.name, metric.help, labels, registry=registry)


def forget_dead_processes(directory: str) -> None:
    """Drop the gauges of workers that died (a restarted worker must not count twice)."""
    for path in Path(directory).glob(f"gauge_{LIVE_GAUGE}_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
        except PermissionError:
            pass  # alive, someone else's


class ProcessMetrics:
    """This process's metrics, shared by every app in it (prometheus-client's objects are)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        directory = os.environ.get(MULTIPROCESS_DIRECTORY)
        if directory:
            forget_dead_processes(directory)
            MultiProcessCollector(self.registry, directory)  # type: ignore[no-untyped-call]
        own = None if directory else self.registry  # multiprocess: values go to files, read by the collector
        made = {metric.name: instrument(metric, own) for metric in metrics.METRICS}
        self.duration = made[metrics.REQUEST_DURATION.name]
        self.active = made[metrics.ACTIVE_REQUESTS.name]
        self.pool_size = made[metrics.POOL_SIZE.name]
        self.pool_in_use = made[metrics.POOL_IN_USE.name]
        self.pool_waiting = made[metrics.POOL_WAITING.name]
        self.database_errors = made[metrics.DATABASE_ERRORS.name]
        self.jwks_fetches = made[metrics.JWKS_FETCHES.name]
        self.jwks_failures = made[metrics.JWKS_FAILURES.name]
        lookups = made[metrics.TOKEN_CACHE.name]
        self.token_cache = {result: lookups.labels(result) for result in ("hit", "miss")}
        self._durations: dict[tuple[str, str, str], Any] = {}

    def finished(self, exchange: Exchange, pool: PoolUsage | None) -> None:
        labels = metrics.duration_labels(exchange)
        series = self._durations.get(labels)
        if series is None:  # a handful of series: routes x methods x statuses
            series = self._durations.setdefault(labels, self.duration.labels(*labels))
        series.observe(exchange.duration)
        if exchange.token_cache is not None:
            self.token_cache[exchange.token_cache].inc()
        if exchange.database_error is not None:
            self.database_errors.labels(exchange.database_error).inc()
        if pool is not None:
            self.pool_size.set(pool.size)
            self.pool_in_use.set(pool.in_use)
            self.pool_waiting.set(pool.waiting)

    def keys_fetched(self, fetched: FetchedKeys) -> FetchedKeys:
        self.jwks_fetches.inc()
        if fetched.body is None:
            self.jwks_failures.inc()
        return fetched

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


@functools.cache
def process_metrics() -> ProcessMetrics:
    return ProcessMetrics()
