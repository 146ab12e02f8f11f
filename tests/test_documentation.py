"""The README and docs/ point at things that exist: every relative link (and its anchor)
resolves, and every `uv run ...` command names a real command, module, path or flag.

Nothing is run: `todo-api` commands are parsed by its own parser, a `python -m` module
must be importable and know each `--flag` the command gives it, and a pytest command's
paths must exist.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

from todo_api.serve.cli import parser

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
COMMAND = re.compile(r"uv run ([^`#|;)\n]+)")


def prose(page: Path) -> str:
    """The page without its fenced code blocks (a link in a shell example is no link)."""
    return re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in prose(page).splitlines() if line.startswith("#")}


def links() -> list[tuple[Path, str]]:
    return [(page, target) for page in PAGES for target in LINK.findall(prose(page))
            if not target.startswith(("http://", "https://", "mailto:"))]


@pytest.mark.parametrize("page, target", links(), ids=lambda value: str(value).rsplit("/", 1)[-1])
def test_every_relative_link_resolves(page, target):
    path, _, anchor = target.partition("#")
    resolved = (page.parent / path).resolve() if path else page
    assert resolved.exists(), f"{page.name} links to {target}, which does not exist"
    if anchor:
        assert anchor in anchors(resolved), f"{page.name} links to #{anchor}, no heading of {resolved.name}"


def commands() -> list[tuple[Path, str]]:
    found = []
    for page in PAGES:
        for match in COMMAND.finditer(page.read_text()):
            command = re.split(r"\s(?:&&|>|&)", match.group(1) + " ")[0].strip()
            found.append((page, command))
    return found


def module_source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"no module {module}"
    origin = Path(spec.origin)
    if origin.name == "__init__.py" and (origin.parent / "__main__.py").exists():
        return (origin.parent / "__main__.py").read_text() + origin.read_text()
    return origin.read_text()


def check(words: list[str]) -> None:
    tool, *args = words
    if tool == "todo-api":
        parser().parse_args(args)  # SystemExit on an unknown command or flag
    elif tool == "python" and args[:1] == ["-m"]:
        source = module_source(args[1])
        for flag in (arg.split("=")[0] for arg in args[2:] if arg.startswith("--")):
            assert f'"{flag}"' in source, f"python -m {args[1]} has no {flag}"
    elif tool == "pytest":
        for arg in args:
            if not arg.startswith("-") and "/" in arg or arg in ("tests", "benchmarks"):
                assert (ROOT / arg.split("::")[0]).exists(), f"no test path {arg}"
    else:
        assert (ROOT / ".venv" / "bin" / tool).exists(), f"no tool {tool}"


@pytest.mark.parametrize("page, command", commands(), ids=lambda value: str(value).rsplit("/", 1)[-1][:60])
def test_every_uv_run_command_names_something_real(page, command):
    check(shlex.split(command))


def test_the_checks_catch_what_is_wrong():
    with pytest.raises(SystemExit):
        check(["todo-api", "serve", "--no-such-flag"])
    with pytest.raises(AssertionError):
        check(["python", "-m", "benchmarks.load", "--no-such-flag"])
    with pytest.raises(AssertionError):
        check(["pytest", "tests/no_such_dir"])
    assert "configuration.md" in {target for _, target in links()}


def test_every_docs_page_is_linked_from_the_readme():
    readme_targets = {target.partition("#")[0] for target in LINK.findall((ROOT / "README.md").read_text())}
    assert {f"docs/{page.name}" for page in PAGES[1:]} <= readme_targets


GENERATED = {"benchmarks/results/short/"}
"""Paths a run writes (ignored by git), which a fresh clone lacks."""


def test_every_file_the_pages_name_exists():
    named = {match for page in PAGES for match in re.findall(
        r"`((?:core|storage|todo_api|web_flask|web_quart|tests|benchmarks|docs)/[\w./-]+)", page.read_text())}
    missing = sorted(path for path in named - GENERATED if not (ROOT / path.split("::")[0]).exists())
    assert missing == []
