"""The typed client a Next.js team generates, proven: TypeScript types from the committed
`openapi.json` (openapi-typescript), used through openapi-fetch and fetch-event-source by a
small file that lists, creates, updates and toggles a task, follows the change feed and
stays live on the event stream, type-checked by `tsc`; the same file with one wrong field
name, or an event name the stream never sends, must fail the check. Skipped, saying how, where node/npm are missing."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

CLIENT_DIR = Path(__file__).parents[1] / "typescript_client"
DOCUMENT = Path(__file__).parents[2] / "openapi.json"
TSC_FLAGS = ["--noEmit", "--strict", "--target", "ES2022", "--module", "ESNext",
             "--moduleResolution", "Bundler", "--skipLibCheck"]


@pytest.fixture(scope="module")
def tools() -> Path:
    npm = shutil.which("npm")
    if not shutil.which("node") or not npm:
        pytest.skip("node and npm are needed to generate and type-check the client; install Node.js 20+")
    wanted = json.loads((CLIENT_DIR / "package.json").read_text())["devDependencies"]
    if not all((CLIENT_DIR / "node_modules" / name / "package.json").exists() for name in wanted):
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CLIENT_DIR,
                       check=True, timeout=300)
    bin_dir = CLIENT_DIR / "node_modules" / ".bin"
    subprocess.run([str(bin_dir / "openapi-typescript"), str(DOCUMENT), "-o", "schema.d.ts"], cwd=CLIENT_DIR,
                   check=True, capture_output=True, timeout=120)
    return bin_dir


def tsc(bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bin_dir / "tsc"), *args], cwd=CLIENT_DIR, capture_output=True, text=True,
                          timeout=120)


def test_the_usage_file_type_checks_against_the_generated_types(tools: Path) -> None:
    checked = tsc(tools, "-p", ".")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def checked_with(tools: Path, original: str, changed: str) -> subprocess.CompletedProcess[str]:
    """The usage file with one change, type-checked."""
    wrong = CLIENT_DIR / "wrong.ts"
    source = (CLIENT_DIR / "usage.ts").read_text()
    assert original in source
    wrong.write_text(source.replace(original, changed))
    try:
        return tsc(tools, *TSC_FLAGS, wrong.name)
    finally:
        wrong.unlink()


def test_a_wrong_field_name_fails_the_check(tools: Path) -> None:
    checked = checked_with(tools, 'title: "Write', 'titel: "Write')
    assert checked.returncode != 0
    assert "'titel' does not exist" in checked.stdout


def test_an_event_the_stream_never_sends_fails_the_check(tools: Path) -> None:
    checked = checked_with(tools, 'name === "expired"', 'name === "expiring"')
    assert checked.returncode != 0
    assert "have no overlap" in checked.stdout
