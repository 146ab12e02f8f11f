"""The Markdown summary: a text chart, the micro benchmarks' table, GitHub's step summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.load import summary
from benchmarks.load.generators import Measurement
from benchmarks.load.micro import without_timings
from benchmarks.load.report import Cell
from benchmarks.load.servers import Target


def cell(kind: str, endpoint: str, rps: float) -> Cell:
    return Cell(Target("flask", "granian", kind), endpoint, Measurement(int(rps * 2), 2.0, 0, 0, 1, 2, 3))


def test_the_text_chart_draws_bars_in_proportion() -> None:
    chart = summary.text_chart([cell("api", "list", 3000), cell("minimal", "list", 1500),
                                cell("api", "stats", 750), cell("raw", "trivial", 60000)])
    lines = chart.splitlines()
    assert lines[0] == "```text" and lines[-1] == "```" and "trivial" not in chart
    bars = [(line.split("█")[0].strip(), line.count("█"), line.split()[-1]) for line in lines if "█" in line]
    assert bars == [("todo-api flask · granian", summary.BAR_WIDTH, "3,000"),
                    ("minimal flask · granian", summary.BAR_WIDTH // 2, "1,500"),
                    ("todo-api flask · granian", summary.BAR_WIDTH // 4, "750")]
    assert lines[1] == "list (requests per second)" and "stats (requests per second)" in lines


def test_the_micro_benchmarks_json_becomes_a_table(tmp_path: Path) -> None:
    path = tmp_path / "micro.json"
    assert summary.micro_table(path) == ""
    path.write_text(json.dumps({"benchmarks": [{"name": "test_verify_hs256_token[cached]", "stats": {
        "median": 1.5e-6, "mean": 1.75e-6, "ops": 571428.6, "rounds": 90000}}]}))
    assert "| test_verify_hs256_token[cached] | 1.5 | 1.8 | 571,429 | 90000 |" in summary.micro_table(path)


def test_the_summary_is_written_and_appended_to_githubs_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step_summary = tmp_path / "step_summary.md"
    step_summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    markdown = summary.compose("todo-api benchmark", "context", [("Gates: 2 of 2 pass", "| table |"),
                                                                  ("Left out", " ")])
    path = summary.publish(markdown, tmp_path / "out")
    assert path.read_text() == markdown
    assert "### Gates: 2 of 2 pass" in markdown and "Left out" not in markdown
    assert step_summary.read_text() == "earlier step\n" + markdown + "\n"
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    summary.publish(markdown, tmp_path / "out")
    assert step_summary.read_text() == "earlier step\n" + markdown + "\n"


def test_the_micro_benchmarks_json_keeps_statistics_not_every_round(tmp_path: Path) -> None:
    path = tmp_path / "micro.json"
    stats = {"median": 1e-6, "data": [1e-6] * 1000}  # data: every round
    path.write_text(json.dumps({"benchmarks": [{"name": "a", "stats": stats}]}))
    without_timings(path)
    assert json.loads(path.read_text())["benchmarks"] == [{"name": "a", "stats": {"median": 1e-6}}]
