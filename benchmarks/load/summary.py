"""The Markdown summary a reviewer reads: the gates first, then every table of the run,
a text chart (it renders anywhere, a CI page included), and the micro benchmarks.

Written to `summary.md` beside the results; appended to `$GITHUB_STEP_SUMMARY` when set,
so a GitHub Actions run shows it on its page.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from benchmarks.load.report import ENDPOINT_TITLES, Cell

BAR_WIDTH = 40


def text_chart(cells: list[Cell], endpoints: tuple[str, ...] = ("list", "stats")) -> str:
    """Requests per second as bars of block characters, one group per endpoint."""
    chosen = [c for c in cells if c.endpoint in endpoints]
    if not chosen:
        return ""
    widest = max(c.result.rps for c in chosen) or 1.0
    label_width = max(len(c.target.label) for c in chosen)
    lines = []
    for endpoint in endpoints:
        group = [c for c in chosen if c.endpoint == endpoint]
        if not group:
            continue
        lines.append(f"{ENDPOINT_TITLES[endpoint]} (requests per second)")
        for cell in group:
            eighths = round(cell.result.rps / widest * BAR_WIDTH * 8)
            bar = "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]
            lines.append(f"  {cell.target.label:<{label_width}} {bar} {cell.result.rps:,.0f}")
        lines.append("")
    return "```text\n" + "\n".join(lines).rstrip() + "\n```\n"


def micro_table(path: Path) -> str:
    """pytest-benchmark's JSON (`--benchmark-json`) as a table; empty when there is none."""
    if not path.exists():
        return ""
    data: dict[str, Any] = json.loads(path.read_text())
    lines = ["| micro benchmark | median (µs) | mean (µs) | ops/s | rounds |", "|---|---:|---:|---:|---:|"]
    for bench in data.get("benchmarks", []):
        stats = bench["stats"]
        lines.append(f"| {bench['name']} | {stats['median'] * 1e6:,.1f} | {stats['mean'] * 1e6:,.1f} | "
                     f"{stats['ops']:,.0f} | {stats['rounds']} |")
    return "\n".join(lines) + "\n"


def compose(title: str, context: str, sections: list[tuple[str, str]]) -> str:
    """`sections`: (heading, Markdown) pairs; an empty body leaves its section out."""
    parts = [f"## {title}", "", context, ""]
    for heading, body in sections:
        if body.strip():
            parts += [f"### {heading}", "", body.rstrip(), ""]
    return "\n".join(parts)


def publish(markdown: str, out: Path) -> Path:
    """`summary.md` in `out`, and the same appended to GitHub's step summary when there is one."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "summary.md"
    path.write_text(markdown)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as file:
            file.write(markdown + "\n")
    return path
