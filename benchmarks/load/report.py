"""The results as a Markdown table (each cell also as a ratio to its baseline) and a bar chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from benchmarks.load.generators import Measurement
from benchmarks.load.servers import Target

ENDPOINT_TITLES = {
    "list": "list",
    "list_filtered": "list, filtered + sorted",
    "stats": "stats",
    "stats_10k": "stats, 10k-task user",
    "trivial": "trivial (/health)",
}


@attrs.frozen
class Cell:
    target: Target
    endpoint: str
    result: Measurement
    """The median round (by requests per second), or the only measurement."""
    rounds: tuple[Measurement, ...] = ()
    """Every interleaved round's measurement, in order."""

    @property
    def spread(self) -> float | None:
        """Fastest round / slowest round; None with fewer than two rounds."""
        rates = [each.rps for each in self.rounds]
        if len(rates) < 2:
            return None
        return max(rates) / min(rates) if min(rates) else float("inf")


def median_round(rounds: list[Measurement]) -> Measurement:
    """The middle round by requests per second (of an even count, the lower middle one)."""
    ordered = sorted(rounds, key=lambda each: each.rps)
    return ordered[(len(ordered) - 1) // 2]


def baseline_for(cells: list[Cell], cell: Cell) -> Cell | None:
    """The framework's minimal handler under the same server, on the same endpoint."""
    for other in cells:
        if (
            other.endpoint == cell.endpoint
            and other.target.kind == "minimal"
            and (other.target.framework, other.target.server) == (cell.target.framework, cell.target.server)
        ):
            return other
    return None


def ratio_text(cells: list[Cell], cell: Cell) -> str:
    baseline = baseline_for(cells, cell)
    if baseline is None or cell.target.kind == "minimal" or not baseline.result.rps:
        return ""
    return f" ({cell.result.rps / baseline.result.rps:.2f}x)"


def markdown(cells: list[Cell], context: str) -> str:
    endpoints = [e for e in ENDPOINT_TITLES if any(c.endpoint == e for c in cells)]
    targets = list(dict.fromkeys(c.target for c in cells))
    lines = [
        context,
        "",
        "Requests per second, the median of the interleaved rounds (ratio to the same framework's "
        "minimal handler under the same server; a cell that a gate measured again shows the median "
        "of its measurements):",
        "",
        "| app · server | " + " | ".join(ENDPOINT_TITLES[e] for e in endpoints) + " |",
        "|---|" + "---:|" * len(endpoints),
    ]
    by_key = {(c.target, c.endpoint): c for c in cells}
    for target in targets:
        row = []
        for endpoint in endpoints:
            cell = by_key.get((target, endpoint))
            row.append("" if cell is None else f"{cell.result.rps:,.0f}{ratio_text(cells, cell)}")
        lines.append(f"| {target.label} | " + " | ".join(row) + " |")
    if any(c.spread is not None for c in cells):
        lines += [
            "",
            "Spread of the rounds (fastest round / slowest round of each cell):",
            "",
            "| app · server | " + " | ".join(ENDPOINT_TITLES[e] for e in endpoints) + " |",
            "|---|" + "---:|" * len(endpoints),
        ]
        for target in targets:
            spreads = [by_key.get((target, endpoint)) for endpoint in endpoints]
            row = ["" if cell is None or cell.spread is None else f"{cell.spread:.2f}" for cell in spreads]
            lines.append(f"| {target.label} | " + " | ".join(row) + " |")
    lines += [
        "",
        "Latency in ms (p50 / p90 / p99) of the median round, and failures (transport errors + "
        "non-200 answers):",
        "",
        "| app · server | " + " | ".join(ENDPOINT_TITLES[e] for e in endpoints) + " |",
        "|---|" + "---:|" * len(endpoints),
    ]
    for target in targets:
        row = []
        for endpoint in endpoints:
            cell = by_key.get((target, endpoint))
            if cell is None:
                row.append("")
                continue
            r = cell.result
            failures = r.errors + r.non200
            row.append(
                f"{r.p50_ms:.1f} / {r.p90_ms:.1f} / {r.p99_ms:.1f}"
                + (f" · **{failures} failed**" if failures else "")
            )
        lines.append(f"| {target.label} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def chart(cells: list[Cell], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    endpoints = [e for e in ENDPOINT_TITLES if e != "trivial" and any(c.endpoint == e for c in cells)]
    targets = list(dict.fromkeys(c.target for c in cells))
    by_key = {(c.target, c.endpoint): c.result.rps for c in cells}
    figure, axis = plt.subplots(figsize=(13, 0.45 * len(targets) * len(endpoints) / 2 + 3))
    height = 0.8 / len(endpoints)
    for n, endpoint in enumerate(endpoints):
        values = [by_key.get((t, endpoint), 0) for t in targets]
        positions = [i + n * height for i in range(len(targets))]
        axis.barh(positions, values, height=height, label=ENDPOINT_TITLES[endpoint])
    axis.set_yticks([i + 0.4 - height / 2 for i in range(len(targets))])
    axis.set_yticklabels([t.label for t in targets])
    axis.invert_yaxis()
    axis.set_xlabel("requests per second")
    axis.set_title(title)
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axis.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_json(path: Path, run: dict[str, Any], cells: list[dict[str, Any]]) -> None:
    """A part's cells, headed by what the run measured on (benchmarks.load.run_info)."""
    path.write_text(json.dumps({"run": run, "cells": cells}, indent=1) + "\n")


def save(cells: list[Cell], out: Path, context: str, title: str, run: dict[str, Any]) -> str:
    out.mkdir(parents=True, exist_ok=True)
    table = markdown(cells, context)
    (out / "latest.md").write_text(table)
    raw: list[dict[str, Any]] = [
        {
            "target": attrs.asdict(c.target),
            "endpoint": c.endpoint,
            **attrs.asdict(c.result),
            "rps": c.result.rps,
            "rounds_rps": [each.rps for each in c.rounds],
            "spread": c.spread,
        }
        for c in cells
    ]
    write_json(out / "latest.json", run, raw)
    chart(cells, out / "latest.png", title)
    return table


def save_part(out: Path, name: str, table: str, rows: list[dict[str, Any]], run: dict[str, Any]) -> str:
    """A part's table as `name.md` and its cells as `name.json` in `out`; the table back."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.md").write_text(table + "\n")
    write_json(out / f"{name}.json", run, rows)
    return table
