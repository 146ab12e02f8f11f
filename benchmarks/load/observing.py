"""The cost of operating it: each frontend under its default server with its access log
and metrics on (the default: one JSON line per request to the server's log file, every
worker's counts in PROMETHEUS_MULTIPROC_DIR) and off (ACCESS_LOG_ENABLED=false,
METRICS_ENABLED=false), side by side, alternating, so a drifting machine weighs on both.

Each round measures on, then off, minutes apart at most; the cost is the median over
rounds of the round's on/off ratio, which a noisy neighbour moves less than a mean of
either side (`--observing-rounds`, 2 by default, 1 in the short run).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

import attrs

from benchmarks.load import generators, report
from benchmarks.load.generators import Measurement
from benchmarks.load.servers import Running, Target
from todo_api.serve.frontends import FRONTENDS

OFF = {"ACCESS_LOG_ENABLED": "false", "METRICS_ENABLED": "false"}
ENDPOINTS = ("list", "stats")


@attrs.frozen
class ObserveCell:
    target: Target
    endpoint: str
    observed: bool
    round: int
    result: Measurement

    @property
    def failed(self) -> bool:
        return bool(self.result.errors or self.result.non200 or not self.result.requests)


def sweep(args: argparse.Namespace, sets: dict[str, tuple[list[tuple[str, str]], Path]], env: dict[str, str],
          workdir: Path) -> list[ObserveCell]:
    cells: list[ObserveCell] = []
    rounds = 1 if args.short else args.observing_rounds
    for framework in args.frameworks:
        target = Target(framework, FRONTENDS[framework].default_server, "api")
        for round_number in range(rounds):
            for observed in (True, False):
                setting = "on" if observed else "off"
                print(f"[observing] {target.label}, access log and metrics {setting}", flush=True)
                server = Running.start(target, args.workers, env if observed else {**env, **OFF}, workdir,
                                       tag=f"observing-{setting}-{round_number}")
                try:
                    for endpoint in ENDPOINTS:
                        result = generators.measure_endpoint(server.port, endpoint, sets[endpoint],
                                                             args.connections, args.warmup, args.seconds)
                        cells.append(ObserveCell(target, endpoint, observed, round_number, result))
                finally:
                    server.stop()
    return cells


def save(cells: list[ObserveCell], out: Path, run: dict[str, Any]) -> str:
    """Per app and endpoint: the median req/s of each setting, and the median of the rounds'
    on/off ratios (with their range)."""
    lines = ["| app · server | endpoint | on: req/s | off: req/s | on / off (median of rounds) | range |",
             "|---|---|---:|---:|---:|---|"]
    for label, endpoint in dict.fromkeys((c.target.label, c.endpoint) for c in cells):
        rounds: dict[int, dict[bool, float]] = {}
        for c in cells:
            if (c.target.label, c.endpoint) == (label, endpoint):
                rounds.setdefault(c.round, {})[c.observed] = c.result.rps
        on = statistics.median(each[True] for each in rounds.values())
        off = statistics.median(each[False] for each in rounds.values())
        ratios = [each[True] / each[False] for each in rounds.values()]
        lines.append(f"| {label} | {endpoint} | {on:,.0f} | {off:,.0f} | {statistics.median(ratios):.3f} | "
                     f"{min(ratios):.2f}-{max(ratios):.2f} |")
    return report.save_part(out, "observing", "\n".join(lines), [
        {"target": c.target.name, "endpoint": c.endpoint, "observed": c.observed, "round": c.round,
         **attrs.asdict(c.result), "rps": c.result.rps}
        for c in cells
    ], run)
