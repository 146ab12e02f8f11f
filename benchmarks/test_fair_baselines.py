"""The baselines run exactly as the app they are compared with: same server, same flags.

A ratio to a baseline means something only if the two differ in the app alone: threads
per WSGI worker, backpressure, timeouts, the event loop, the pool size (read by both from
the same settings).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from benchmarks.load.baselines import common
from benchmarks.load.servers import Target, all_targets
from benchmarks.load.slowed import SLOWED_API_ENV
from todo_api.config.settings import Settings
from todo_api.serve.frontends import FRONTENDS

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_PACKAGES = ("core", "storage", "web_flask", "web_quart", "todo_api")


@pytest.mark.parametrize("wsgi_threads", ["1", "64"])
def test_each_baseline_runs_with_its_apps_server_command_but_for_the_app(
    monkeypatch: pytest.MonkeyPatch, wsgi_threads: str
) -> None:
    monkeypatch.setenv("WSGI_THREADS", wsgi_threads)
    monkeypatch.delenv(SLOWED_API_ENV, raising=False)
    for framework, frontend in FRONTENDS.items():
        for server in frontend.servers:
            api = Target(framework, server, "api").command(8000, 2)
            assert api[-1] == frontend.app
            for kind in ("minimal", "raw"):
                baseline = Target(framework, server, kind).command(8000, 2)
                assert baseline[:-1] == api[:-1], (framework, server, kind)
                assert baseline[-1].startswith("benchmarks.load.baselines.")
            if frontend.interface == "wsgi" and server == "granian":
                assert api[api.index("--blocking-threads") + 1] == wsgi_threads


def test_the_baselines_pool_is_the_apis() -> None:
    assert common.POOL_SIZE == Settings.from_env(os.environ).db_pool_max_size


def test_the_slowed_app_is_chosen_only_by_its_environment_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SLOWED_API_ENV, "3")
    for target in all_targets():
        expected = f"benchmarks.load.slowed:{target.framework}" if target.kind == "api" else target.app
        assert target.command(8000, 2)[-1] == expected
    monkeypatch.delenv(SLOWED_API_ENV)
    assert all("slowed" not in target.app for target in all_targets())


def test_nothing_a_deployment_runs_can_reach_the_slowed_app() -> None:
    """The switch lives in the benchmark only: no production module imports from `benchmarks`
    or reads the switch, so `todo-api serve` cannot be slowed by its environment."""
    pattern = re.compile(rf"\bbenchmarks\b|{SLOWED_API_ENV}")
    offending = [str(path.relative_to(ROOT)) for package in PRODUCTION_PACKAGES
                 for path in (ROOT / package).rglob("*.py") if pattern.search(path.read_text())]
    assert offending == []
