"""`--compare`: each cell's change against a baseline run as a ratio of ratios."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.load import compare
from benchmarks.load.compare import Run

SETTINGS = {"short": False, "users": 2000, "tasks_per_user": 25, "big_user_tasks": 10000, "connections": 32,
            "workers": 2, "seconds": 10.0}


def cell(kind: str, endpoint: str, rps: float, rtt_ms: float | None = None) -> dict[str, Any]:
    return {"target": {"framework": "flask", "server": "granian", "kind": kind}, "endpoint": endpoint,
            "rtt_ms": rtt_ms, "rps": rps}


def write_run(directory: Path, scale: float = 1.0, api_list: float = 3000, **settings: Any) -> Path:
    """A run's latest.json and latency.json; `scale` multiplies every number (a faster machine)."""
    directory.mkdir()
    run = {"date": "2026-11-26T00:00:00Z", "commit": "abc", "settings": {**SETTINGS, **settings}}
    cells = [cell("api", "list", api_list * scale), cell("minimal", "list", 1500 * scale),
             cell("api", "stats_10k", 2700 * scale), cell("minimal", "stats_10k", 200 * scale),
             cell("raw", "trivial", 50000 * scale)]
    (directory / "latest.json").write_text(json.dumps({"run": run, "cells": cells}))
    latency = [cell("api", "list", 2400, rtt_ms=10.0), cell("api", "list", 3000, rtt_ms=None)]
    (directory / "latency.json").write_text(json.dumps({"run": run, "cells": latency}))
    return directory / "latest.json"


@pytest.mark.parametrize(("scale", "api_list", "flagged", "row_ends"), [
    (0.5, 3000, 0, "| 2.00 | 2.00 | +0% |  |"),  # a machine half as fast: no regression
    (1.0, 1500, 1, "| 2.00 | 1.00 | -50% | ⚠ slower |"),
    (1.0, 2700, 0, "| 2.00 | 1.80 | -10% |  |"),  # inside the noise
    (1.0, 4500, 1, "| 2.00 | 3.00 | +50% | ⚠ faster |"),
])
def test_each_change_is_a_ratio_of_ratios_flagged_beyond_the_noise(
    tmp_path: Path, scale: float, api_list: float, flagged: int, row_ends: str
) -> None:
    then = Run.load(write_run(tmp_path / "then"))
    now = Run.load(write_run(tmp_path / "now", scale=scale, api_list=api_list))
    table, beyond = compare.compare(now, then, noise=0.2)
    assert beyond == flagged
    assert f"| todo-api flask · granian · list | minimal flask {row_ends}" in table


def test_the_latency_axis_is_compared_as_a_share_of_the_littles_law_bound(tmp_path: Path) -> None:
    now, then = Run.load(write_run(tmp_path / "now")), Run.load(write_run(tmp_path / "then"))
    table, _ = compare.compare(now, then, 0.2)
    row = "| todo-api flask · granian · list · database 10 ms away | Little's-law bound | 0.75 | 0.75 |"
    assert row in table


def test_cells_that_measured_different_work_are_left_out(tmp_path: Path) -> None:
    then = Run.load(write_run(tmp_path / "then"))
    now = Run.load(write_run(tmp_path / "now", short=True, users=200, big_user_tasks=2000, seconds=2.0))
    table, _ = compare.compare(now, then, noise=0.2)
    assert "big_user_tasks 10000 → 2000" in table and "users 2000 → 200" in table
    assert "10k-task user" not in table and "todo-api flask · granian · list |" in table


def test_a_latency_file_from_another_run_is_not_mixed_in(tmp_path: Path) -> None:
    path = write_run(tmp_path / "run")
    other = json.loads((tmp_path / "run" / "latency.json").read_text())
    other["run"]["date"] = "2026-11-27T00:00:00Z"
    (tmp_path / "run" / "latency.json").write_text(json.dumps(other))
    assert all(rtt is None for *_, rtt in Run.load(path).rps)


def test_a_run_written_before_results_carried_their_settings_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "latest.json"
    path.write_text(json.dumps([cell("api", "list", 3000), cell("minimal", "list", 1000)]))
    run = Run.load(path)
    assert run.info == {}
    assert run.ratios() == {("flask", "granian", "api", "list", None): ("minimal flask", 3.0)}


def test_the_noise_is_the_spread_of_each_ratio_over_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [write_run(tmp_path / f"run{n}", api_list=value) for n, value in enumerate([3000, 2700, 3300])]
    assert compare.main(["--noise", *map(str, paths)]) == 0
    printed = capsys.readouterr().out
    assert "| todo-api flask · granian · list | 20% |" in printed  # (2.2 - 1.8) / 2.0
    assert "3 runs" in printed


def test_the_command_compares_a_run_with_its_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now, then = write_run(tmp_path / "now", api_list=1500), write_run(tmp_path / "then")
    assert compare.main([str(now), str(then)]) == 0
    assert "⚠ slower" in capsys.readouterr().out
