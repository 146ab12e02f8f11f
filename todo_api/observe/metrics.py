"""Counting the core's metrics (`core.metrics`) in every server process, cheaply.

A request only queues what happened (it started, it stopped, its exchange: appends to a
deque); a thread of the process adds the queue to the totals every FLUSH_SECONDS, as
does a scrape before it answers. One scrape must count every worker's requests, so under
`todo-api serve` each process writes its totals to its own file in
PROMETHEUS_MULTIPROC_DIR (a fresh directory per start) every FLUSH_SECONDS, from a
thread of its own, and a scrape, answered by any worker, sums the files with its own
live totals: another worker's requests show up to FLUSH_SECONDS late. Counts of a worker
that died stay in the sum (a counter never goes back); its gauges do not.
"""

from __future__ import annotations

import bisect
import collections
import functools
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core import metrics
from core.metrics import Totals
from core.plan import FetchedKeys
from core.tracing import Exchange
from storage.options import DatabaseUsage

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
FLUSH_SECONDS = 0.5
BUCKETS = len(metrics.DURATION_BUCKETS) + 1  # the last: past the largest bound
STARTED, STOPPED = "started", "stopped"


class ProcessMetrics:
    """This process's totals, shared by every app in it."""

    def __init__(self, directory: str | None) -> None:
        self.directory = Path(directory) if directory else None
        self._lock = threading.Lock()  # the thread, a scrape and a JWKS fetch change the totals
        self._events: collections.deque[Exchange | str] = collections.deque()
        self._counters: dict[tuple[str, tuple[str, ...]], float] = {}
        self._durations: dict[tuple[str, ...], list[float]] = {}  # bucket counts, then the sum
        self._active = 0
        self._pools: list[Callable[[], DatabaseUsage]] = []
        self._flushing_in: int | None = None
        """The process whose thread writes the file (a forked worker starts its own)."""

    def watch_pool(self, usage: Callable[[], DatabaseUsage]) -> None:
        """A database pool whose use the gauges show (sampled when the totals are taken)."""
        with self._lock:
            self._pools.append(usage)

    def forget_pool(self, usage: Callable[[], DatabaseUsage]) -> None:
        with self._lock:
            if usage in self._pools:
                self._pools.remove(usage)

    def started(self) -> None:
        self._events.append(STARTED)
        if self._flushing_in != os.getpid():  # this process (a forked worker too) has no thread yet
            self._start_flusher()

    def stopped(self) -> None:
        self._events.append(STOPPED)

    def finished(self, exchange: Exchange) -> None:
        self._events.append(exchange)

    def _add_events(self) -> None:
        """The queued events into the totals (with the lock held)."""
        events = self._events
        while events:
            event = events.popleft()
            if isinstance(event, Exchange):
                self._add_exchange(event)
            else:
                self._active += 1 if event == STARTED else -1

    def _add_exchange(self, exchange: Exchange) -> None:
        labels = metrics.duration_labels(exchange)
        histogram = self._durations.get(labels)
        if histogram is None:
            histogram = self._durations[labels] = [0.0] * (BUCKETS + 1)
        histogram[bisect.bisect_left(metrics.DURATION_BUCKETS, exchange.duration)] += 1  # le: bound >= value
        histogram[BUCKETS] += exchange.duration
        if exchange.token_cache is not None:
            self._add(metrics.TOKEN_CACHE.name, (exchange.token_cache,))
        if exchange.database_error is not None:
            self._add(metrics.DATABASE_ERRORS.name, (exchange.database_error,))

    def keys_fetched(self, fetched: FetchedKeys) -> FetchedKeys:
        with self._lock:
            self._add(metrics.JWKS_FETCHES.name, ())
            if fetched.body is None:
                self._add(metrics.JWKS_FAILURES.name, ())
        return fetched

    def _add(self, name: str, labels: tuple[str, ...]) -> None:
        key = (name, labels)
        self._counters[key] = self._counters.get(key, 0.0) + 1

    def snapshot(self) -> dict[str, Any]:
        """This process's totals, as its file holds them."""
        with self._lock:
            self._add_events()
            counters = [[name, list(labels), value] for (name, labels), value in self._counters.items()]
            durations = [[list(labels), list(values)] for labels, values in self._durations.items()]
            pools = list(self._pools)
            active = self._active
        used = [usage() for usage in pools]
        gauges = {
            metrics.ACTIVE_REQUESTS.name: active,
            metrics.POOL_SIZE.name: sum(each.size for each in used),
            metrics.POOL_IN_USE.name: sum(each.in_use for each in used),
            metrics.POOL_WAITING.name: sum(each.waiting for each in used),
            metrics.EVENT_STREAMS.name: sum(each.streams for each in used),
            metrics.EVENT_WATCHERS_POLLING.name: sum(each.polling for each in used),
        }
        counters.append([metrics.FANOUT_STATEMENTS.name, [], sum(each.fanout_statements for each in used)])
        counters.append([metrics.READS.name, ["primary"], sum(each.primary_reads for each in used)])
        counters.append([metrics.READS.name, ["replica"], sum(each.replica_reads for each in used)])
        return {"pid": os.getpid(), "counters": counters, "durations": durations, "gauges": gauges}

    def exposition(self) -> bytes:
        """Every process's totals, summed, in Prometheus's text format."""
        own = self.snapshot()
        snapshots = [own]
        if self.directory is not None:
            self._write(own)
            snapshots += [other for other in self._read_others() if other["pid"] != own["pid"]]
        return metrics.exposition(summed(snapshots))

    def _start_flusher(self) -> None:
        with self._lock:
            if self._flushing_in == os.getpid():
                return
            self._flushing_in = os.getpid()
        threading.Thread(target=self._flush_forever, name="todo-api-metrics", daemon=True).start()

    def _flush_forever(self) -> None:
        """Every FLUSH_SECONDS: the queue into the totals, and the totals to the file."""
        while True:
            time.sleep(FLUSH_SECONDS)
            snapshot = self.snapshot()
            if self.directory is not None:
                self._write(snapshot)

    def _write(self, snapshot: dict[str, Any]) -> None:
        assert self.directory is not None
        final = self.directory / f"{snapshot['pid']}.json"
        partial = final.with_suffix(f".{threading.get_ident()}.tmp")
        partial.write_text(json.dumps(snapshot))
        partial.replace(final)  # a reader sees the old totals or the new, never half

    def _read_others(self) -> list[dict[str, Any]]:
        assert self.directory is not None
        found = []
        for path in self.directory.glob("*.json"):
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # replaced or removed while listed
        return found


def sibling_alive(pid: int) -> bool:
    """Whether a worker of this server still runs: it runs as this user, so a pid that is
    gone or someone else's (reused) is not one."""
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def summed(snapshots: list[dict[str, Any]]) -> Totals:
    """Counters and histograms of every process; gauges of the live ones."""
    counters: dict[tuple[str, tuple[str, ...]], float] = {}
    durations: dict[tuple[str, ...], list[float]] = {}
    gauges: dict[str, float] = {}
    for snapshot in snapshots:
        for name, labels, value in snapshot["counters"]:
            key = (name, tuple(labels))
            counters[key] = counters.get(key, 0.0) + value
        for labels, values in snapshot["durations"]:
            into = durations.setdefault(tuple(labels), [0.0] * (BUCKETS + 1))
            for index, value in enumerate(values):
                into[index] += value
        if snapshot["pid"] == os.getpid() or sibling_alive(snapshot["pid"]):
            for name, value in snapshot["gauges"].items():
                gauges[name] = gauges.get(name, 0.0) + value
    histograms = {labels: (values[:BUCKETS], values[BUCKETS]) for labels, values in durations.items()}
    return Totals(counters, histograms, gauges)


@functools.cache
def process_metrics() -> ProcessMetrics:
    return ProcessMetrics(os.environ.get(MULTIPROCESS_DIRECTORY))
