"""The shape of the code: imports point one way, and `bot/` sees only the core's public face.

Read from the source with `ast`, so a rule broken by a function-level or `TYPE_CHECKING` import
counts too; nothing is imported or run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("index", "bot")

# `bot/` modules may import these `index.<submodule>`s besides the public face `index`.
# Empty on purpose: what an adapter needs is named in `index/__init__.py`.
BOT_MAY_IMPORT: frozenset[str] = frozenset()


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


MODULES = _modules()


def _imported_names(name: str, path: Path) -> Iterator[str]:
    """Every module `name` imports, absolute, at any depth of the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from index import storage` imports the submodule, not the package's face.
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def _graph() -> dict[str, set[str]]:
    return {name: set(_imported_names(name, path)) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a module importing itself."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node] & graph.keys()):
            if target not in order:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], order[target])
        if low[node] == order[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in order:
            visit(node)
    return found


def test_the_rules_see_the_whole_code() -> None:
    graph = _graph()
    assert {"index", "index.library", "bot", "bot.app"} <= graph.keys()
    assert "index.storage" in graph["index.library"]  # `from index import storage`


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert _cycles(graph) == [["a", "b", "c"], ["e"]]


def test_the_core_never_imports_telegram() -> None:
    offenders = {
        (name, target)
        for name, targets in _graph().items()
        if name.split(".")[0] == "index"
        for target in targets
        if target.split(".")[0] == "telegram"
    }
    assert offenders == set()


def test_bot_uses_only_the_public_face_of_index() -> None:
    offenders = {
        (name, target)
        for name, targets in _graph().items()
        if name.split(".")[0] == "bot"
        for target in targets
        if target.startswith("index.") and target not in BOT_MAY_IMPORT
    }
    assert offenders == set()
