"""The gates fail a run whose API got slower: a real short load run against real servers,
with every API request burning a few milliseconds of CPU (benchmarks/load/slowed.py).

Only the gates against the minimal handler are measured here (the other parts and kinds
are left out to keep it short); `.ci/run`'s short run checks every gate unslowed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.load.slowed import SLOWED_API_ENV
from todo_api.serve.frontends import FRONTENDS

ROOT = Path(__file__).resolve().parents[1]
SLOWED_MS = "20"  # of CPU per request: 2 workers then serve at most 100 req/s, a small share of the
# minimal handler even on a machine this test shares with other work


@pytest.mark.timeout(420)
@pytest.mark.parametrize("framework", list(FRONTENDS))
def test_a_slowed_api_fails_its_gates_after_being_measured_again(
    framework: str, server_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.load", "--short", "--parts", "servers", "--frameworks", framework,
         "--servers", FRONTENDS[framework].default_server, "--kinds", "api", "minimal",
         "--endpoints", "list", "stats", "--seconds", "1", "--warmup", "0.3",
         "--database-url", server_url, "--out", str(out), "--compare", "benchmarks/results/latest.json"],
        cwd=ROOT, env={**os.environ, SLOWED_API_ENV: SLOWED_MS}, capture_output=True, text=True, timeout=400,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    verdicts = {(v["gate"], v["endpoint"]): v for v in json.loads((out / "gates.json").read_text())["cells"]}
    for endpoint in ("list", "stats"):
        verdict = verdicts[("over_minimal", endpoint)]
        assert verdict["passed"] is False and verdict["ratio"] < verdict["floor"], done.stdout
        assert len(verdict["values"]) >= 2, "a ratio below its floor is measured again before it fails"
        assert f"FAILED gate {framework} · {FRONTENDS[framework].default_server} · {endpoint}" in done.stderr
        assert "measuring again" in done.stdout
    assert verdicts[("over_raw", "list")]["ratio"] is None  # not measured: no raw callable in this run
    assert all(failure.startswith("FAILED gate") for failure in done.stderr.splitlines()
               if failure.startswith("FAILED")), done.stderr  # no request failed: only the gates
    summary = (out / "summary.md").read_text()
    assert "❌ FAIL" in summary and "Gates: 0 of 2 pass ❌" in summary
    comparison = summary.split("### Against benchmarks/results/latest.json", 1)[1]
    row = f"| todo-api {framework} · {FRONTENDS[framework].default_server} · list | minimal {framework} |"
    assert row in comparison and "⚠ slower" in comparison  # the committed full run saw it faster
