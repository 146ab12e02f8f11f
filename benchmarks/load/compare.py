"""A run against a baseline run (the committed full run): each cell's change as a ratio of ratios.

A cell is read as a ratio within its own run: an app against its framework's minimal handler
under the same server, on the same endpoint; a point of the latency axis as its share of the
Little's-law bound. The change is this run's ratio over the baseline's, so a slower machine,
which slows the baseline handler as much as the app, does not read as a regression. Changes
larger than the measured run-to-run noise (`noise` in `[tool.todo-api.bench]`) are flagged.

    uv run python -m benchmarks.load.compare RUN/latest.json benchmarks/results/latest.json
    uv run python -m benchmarks.load.compare --noise A/latest.json B/latest.json C/latest.json

The second form measures that noise: the spread of every ratio over runs of the same code.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import attrs

from benchmarks.load.gates import GateConfig
from benchmarks.load.report import ENDPOINT_TITLES
from benchmarks.load.servers import Target

SETTINGS_THAT_MATTER = ("users", "tasks_per_user", "big_user_tasks", "connections", "workers", "seconds")
CellId = tuple[str, str, str, str, float | None]  # framework, server, kind, endpoint, rtt_ms


@attrs.frozen
class Run:
    info: dict[str, Any]
    rps: dict[CellId, float]

    @classmethod
    def load(cls, path: Path) -> Run:
        """`latest.json`, with the latency axis of the same run from `latency.json` beside it."""
        document = json.loads(path.read_text())
        info = document.get("run", {}) if isinstance(document, dict) else {}
        cells = document["cells"] if isinstance(document, dict) else document  # older runs: a bare list
        latency = path.with_name("latency.json")
        if latency.exists() and path.name != latency.name:
            other = json.loads(latency.read_text())
            if isinstance(other, dict) and other.get("run") == info:
                cells = cells + [c for c in other["cells"] if c.get("rtt_ms")]
        rps: dict[CellId, float] = {}
        for cell in cells:
            target = cell["target"]
            rps[(target["framework"], target["server"], target["kind"], cell["endpoint"],
                 cell.get("rtt_ms"))] = cell["rps"]
        return cls(info, rps)

    def ratios(self) -> dict[CellId, tuple[str, float]]:
        """Each cell's ratio within this run, with what it is a ratio to."""
        connections = self.info.get("settings", {}).get("connections", 32)
        ratios: dict[CellId, tuple[str, float]] = {}
        for (framework, server, kind, endpoint, rtt), rps in self.rps.items():
            if rtt:
                ratios[(framework, server, kind, endpoint, rtt)] = ("Little's-law bound",
                                                                     rps / (connections / (rtt / 1000)))
                continue
            minimal = self.rps.get((framework, server, "minimal", endpoint, None))
            if kind != "minimal" and minimal:
                ratios[(framework, server, kind, endpoint, rtt)] = (f"minimal {framework}", rps / minimal)
        return ratios


def label(cell: CellId) -> str:
    framework, server, kind, endpoint, rtt = cell
    what = Target(framework, server, kind).label.removesuffix(f" · {server}")
    where = f" · database {rtt:g} ms away" if rtt else ""
    return f"{what} · {server} · {ENDPOINT_TITLES[endpoint]}{where}"


def settings_differ(now: Run, then: Run) -> list[str]:
    mine, theirs = now.info.get("settings", {}), then.info.get("settings", {})
    return [f"{name} {theirs[name]} → {mine[name]}" for name in SETTINGS_THAT_MATTER
            if name in mine and name in theirs and mine[name] != theirs[name]]


def comparable(cell: CellId, now: Run, then: Run) -> bool:
    """Whether the cell measured the same work in both runs: the heavy user's cells only
    when that user had as many tasks, every cell only with as many tasks per user."""
    mine, theirs = now.info.get("settings", {}), then.info.get("settings", {})
    depends_on = ["tasks_per_user"] + (["big_user_tasks"] if cell[3] == "stats_10k" else [])
    return all(mine[name] == theirs[name] for name in depends_on if name in mine and name in theirs)


def compare(now: Run, then: Run, noise: float) -> tuple[str, int]:
    """The Markdown table of changes, and how many are beyond the noise."""
    before, after = then.ratios(), now.ratios()
    lines = []
    differ = settings_differ(now, then)
    if differ:
        lines += [f"The runs' settings differ ({'; '.join(differ)}); cells that measured different work "
                  "(the heavy user's, when it had another number of tasks) are left out.", ""]
    if not then.info.get("settings"):
        lines += ["The baseline does not record its settings (a run from before results carried them).", ""]
    lines += [f"Each cell as a ratio within its run, this run against the baseline "
              f"({then.info.get('date', 'undated')}, {then.info.get('commit') or 'no commit'}); "
              f"flagged beyond the run-to-run noise of ±{noise:.0%}:", "",
              "| cell | ratio to | baseline | this run | change | |", "|---|---|---:|---:|---:|---|"]
    flagged = 0
    cells = [c for c in after.keys() & before.keys() if comparable(c, now, then)]
    for cell in sorted(cells, key=lambda c: (c[4] or 0, c)):
        to, ratio_now = after[cell]
        ratio_then = before[cell][1]
        change = ratio_now / ratio_then - 1 if ratio_then else 0.0
        beyond = abs(change) > noise
        flagged += beyond
        mark = ("⚠ slower" if change < 0 else "⚠ faster") if beyond else ""
        lines.append(f"| {label(cell)} | {to} | {ratio_then:.2f} | {ratio_now:.2f} | {change:+.0%} | "
                     f"{mark} |")
    missing = sorted(before.keys() - after.keys(), key=lambda c: (c[4] or 0, c))
    if missing and now.info.get("settings", {}).get("short") is False:
        lines += ["", "Not measured in this run: " + "; ".join(label(c) for c in missing) + "."]
    return "\n".join(lines) + "\n", flagged


def noise_of(runs: list[Run]) -> str:
    """The spread ((max - min) / median) of each ratio over `runs` of the same code."""
    ratios = [run.ratios() for run in runs]
    common = set.intersection(*(set(r) for r in ratios))
    spreads = {}
    for cell in common:
        values = [r[cell][1] for r in ratios]
        spreads[cell] = (max(values) - min(values)) / statistics.median(values)
    lines = ["| cell | spread over runs |", "|---|---:|"]
    lines += [f"| {label(c)} | {s:.0%} |" for c, s in sorted(spreads.items(), key=lambda item: -item[1])]
    ordered = sorted(spreads.values())
    lines += ["", f"{len(runs)} runs, {len(ordered)} ratios: median spread {statistics.median(ordered):.0%}, "
                  f"90th percentile {ordered[int(0.9 * (len(ordered) - 1))]:.0%}, largest {ordered[-1]:.0%}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="this run's latest.json, then the baseline's")
    parser.add_argument("--noise", action="store_true", help="measure the spread of each ratio over the runs")
    args = parser.parse_args(argv)
    runs = [Run.load(path) for path in args.runs]
    if args.noise:
        print(noise_of(runs))
        return 0
    if len(runs) != 2:
        parser.error("give this run and the baseline, in that order")
    table, _ = compare(runs[0], runs[1], GateConfig.load().noise)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
