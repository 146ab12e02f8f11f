"""The micro benchmarks (`benchmarks/test_micro.py`: the core's plan, token verification, one
in-process request per frontend) run by pytest-benchmark, their JSON beside the load results.

They use the load run's PostgreSQL (as `TEST_DATABASE_URL`, in a database of their own).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

MICRO_TESTS = Path(__file__).resolve().parents[1] / "test_micro.py"


def run(out: Path, server_url: str, short: bool) -> bool:
    """Write `out/micro.json`; False when a micro benchmark failed."""
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pytest", str(MICRO_TESTS), "-q", "-p", "no:cacheprovider",
               "--benchmark-enable", "--benchmark-columns=median,mean,ops,rounds",
               f"--benchmark-json={out / 'micro.json'}"]
    if short:
        command.append("--benchmark-max-time=0.2")
    print("[micro] " + " ".join(command[1:]), flush=True)
    done = subprocess.run(command, env={**os.environ, "TEST_DATABASE_URL": server_url}, timeout=900,
                          check=False)
    without_timings(out / "micro.json")
    return done.returncode == 0


def without_timings(path: Path) -> None:
    """Drop each benchmark's every round (`stats.data`: megabytes), keeping its statistics."""
    if not path.exists():
        return
    document = json.loads(path.read_text())
    for bench in document.get("benchmarks", []):
        bench.get("stats", {}).pop("data", None)
    path.write_text(json.dumps(document, indent=1) + "\n")
