"""Imports run one way: from a higher layer to a lower one, never back.

The layers, lowest first: the sans-IO core; storage (psycopg); the service's
configuration; its observability; the glue both frontends share; the two frontends;
serving and supervision (which loads the frontends). `ALLOWED` says what each may
import; every import statement of every module, at any depth, is checked against it.
Inside the core, the request machinery does not reach into the task domain.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parents[1]

LOWEST_FIRST = [
    "core",
    "storage",
    "todo_api.config",
    "todo_api.observe",
    "todo_api.glue",
    "web_flask",
    "web_quart",
    "todo_api.serve",
]
SIDEWAYS = {"web_flask": "web_quart", "web_quart": "web_flask"}
"""Packages of the same layer, which must not import each other."""


def allowed_below(layer: str) -> set[str]:
    below = set(LOWEST_FIRST[: LOWEST_FIRST.index(layer) + 1])
    return below - {SIDEWAYS.get(layer, "")}


ALLOWED = {layer: allowed_below(layer) for layer in LOWEST_FIRST}

CORE_MACHINERY = {"api", "auth", "caching", "cors", "errors", "http", "keys", "logsafe", "plan",
                  "preconditions", "routes", "text", "token_cache", "tracing", "version"}
CORE_DOMAIN = {"tasks", "handlers", "queries", "listing", "idempotency", "pages", "changes", "events", "reads",
               "openapi", "docs"}
"""Core modules: the request machinery may import none of the task domain's, except
`core.api`, which assembles the two."""


def layer_of(module: str) -> str | None:
    matches = [layer for layer in LOWEST_FIRST if module == layer or module.startswith(layer + ".")]
    return max(matches, key=len) if matches else None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def wrong_way(module: str, source: str) -> list[str]:
    here = layer_of(module)
    assert here is not None, f"{module} is in no layer: add its package to LOWEST_FIRST"
    return [
        f"{module}:{line} ({here}) imports {target} ({there})"
        for line, target in imports(source)
        if (there := layer_of(target)) is not None and there not in ALLOWED[here]
    ]


def modules() -> list[Path]:
    """Every module of every layer (`todo_api/__init__.py`, a docstring over four layers, is none)."""
    packages = {layer.split(".")[0] for layer in LOWEST_FIRST}
    found = (path for package in packages for path in (ROOT / package).rglob("*.py"))
    return sorted(path for path in found if path != ROOT / "todo_api" / "__init__.py")


def test_every_module_is_in_a_layer():
    assert [str(path) for path in modules() if layer_of(module_name(path)) is None] == []


def test_imports_run_from_higher_layers_to_lower_ones():
    problems = [problem for path in modules() for problem in wrong_way(module_name(path), path.read_text())]
    assert problems == []


def test_the_check_sees_a_wrong_way_import():
    assert wrong_way("storage.probe", "from todo_api.glue.wiring import build_api\n") == [
        "storage.probe:1 (storage) imports todo_api.glue.wiring (todo_api.glue)",
        "storage.probe:1 (storage) imports todo_api.glue.wiring.build_api (todo_api.glue)",
    ]
    assert wrong_way("web_flask.app", "import web_quart\n") == ["web_flask.app:1 (web_flask) imports web_quart (web_quart)"]
    assert wrong_way("todo_api.serve.cli", "import web_quart\nfrom core import api\n") == []


def test_core_machinery_does_not_import_the_task_domain():
    problems = [
        f"core/{name}.py:{line} imports {target}"
        for name in sorted(CORE_MACHINERY - {"api"})
        for line, target in imports((ROOT / "core" / f"{name}.py").read_text())
        if target.startswith("core.") and target.split(".")[1] in CORE_DOMAIN
    ]
    assert problems == []


def test_every_core_module_is_machinery_or_domain():
    names = {path.stem for path in (ROOT / "core").glob("*.py")} - {"__init__"}
    assert names - CORE_MACHINERY - CORE_DOMAIN - {"metrics", "settings_table"} == set()
