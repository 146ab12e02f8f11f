"""`storage/sync.py` is `storage/aio.py` with the async taken out, and the test says so.

Like psycopg's `async_to_sync.py --check`: the async module's syntax tree, with `async`
and `await` removed and the async names of psycopg and the standard library swapped
for their sync twins, must be the sync module's tree (docstrings, comments and
formatting aside). A fix made in one driver and not the other fails here.
"""

from __future__ import annotations

import ast
import difflib
from pathlib import Path

STORAGE = Path(__file__).parents[2] / "storage"

SYNC_NAMES = {
    "AsyncConnectionPool": "ConnectionPool",
    "AsyncConnection": "Connection",
    "AsyncIterator": "Iterator",
    "asynccontextmanager": "contextmanager",
    "AsyncKeyFetcher": "KeyFetcher",
    "AsyncBodyReader": "BodyReader",
    "AsyncDriver": "Driver",
    "storage.watch_aio": "storage.watch_sync",
    "AsyncExitStack": "ExitStack",
    "AbstractAsyncContextManager": "AbstractContextManager",
    "enter_async_context": "enter_context",
}
"""Async names and their sync twins; `Awaitable[T]` becomes `T`."""


class Unasync(ast.NodeTransformer):
    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.FunctionDef:
        self.generic_visit(node)
        return ast.FunctionDef(**{field: getattr(node, field, None) for field in ast.FunctionDef._fields})

    def visit_AsyncWith(self, node: ast.AsyncWith) -> ast.With:
        self.generic_visit(node)
        return ast.With(items=node.items, body=node.body, type_comment=None)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> ast.For:
        self.generic_visit(node)
        return ast.For(target=node.target, iter=node.iter, body=node.body, orelse=node.orelse, type_comment=None)

    def visit_Await(self, node: ast.Await) -> ast.expr:
        return self.visit(node.value)  # type: ignore[no-any-return]

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        if isinstance(node.value, ast.Name) and node.value.id == "Awaitable":
            return self.visit(node.slice)  # type: ignore[no-any-return]
        return self.generic_visit(node)  # type: ignore[return-value]

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = SYNC_NAMES.get(node.id, node.id)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.Attribute:
        self.generic_visit(node)
        node.attr = SYNC_NAMES.get(node.attr, node.attr)
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.ImportFrom:
        node.module = SYNC_NAMES.get(node.module or "", node.module)
        names = [ast.alias(SYNC_NAMES.get(a.name, a.name), a.asname) for a in node.names if a.name != "Awaitable"]
        node.names = sorted(names, key=lambda alias: alias.name)
        return node


def without_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            body.pop(0)
    return tree


def normalized(tree: ast.Module) -> str:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            node.names = sorted(node.names, key=lambda alias: alias.name)
    return ast.unparse(without_docstrings(tree))


def unasynced(source: str) -> str:
    return normalized(ast.fix_missing_locations(Unasync().visit(ast.parse(source))))


def test_sync_driver_is_the_async_one_without_async():
    expected = unasynced((STORAGE / "aio.py").read_text())
    actual = normalized(ast.parse((STORAGE / "sync.py").read_text()))
    diff = "\n".join(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                          "aio.py, unasynced", "sync.py", lineterm=""))
    assert not diff, f"storage/sync.py drifted from storage/aio.py:\n{diff}"


def test_the_check_sees_a_drift():
    """A statement changed in one twin only is caught (the check is not vacuous)."""
    source = (STORAGE / "aio.py").read_text()
    drifted = source.replace("self.watchdog.stop()", "pass", 1)
    assert drifted != source
    assert unasynced(drifted) != normalized(ast.parse((STORAGE / "sync.py").read_text()))
