"""The shape of the code: imports point one way, and `bot/` sees only the core's public face.

Read from the source with `ast`, so a rule broken by a function-level or `TYPE_CHECKING` import
counts too; nothing is imported or run.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("index", "bot")
# The name each product folder is imported by (what `pip install` puts in site-packages).
IMPORT_NAMES = {"index": "acuerdo.index", "bot": "acuerdo.bot"}
CORE, ADAPTERS = IMPORT_NAMES["index"], IMPORT_NAMES["bot"]
# Imports are followed through these too: a cycle is a cycle wherever it is.
FOLDERS = (*PACKAGES, "tests", "benchmarks")

# `bot/` modules may import these `index.<submodule>`s besides the public face `index`.
# Empty on purpose: what an adapter needs is named in `index/__init__.py`.
BOT_MAY_IMPORT: frozenset[str] = frozenset()


def _module_name(path: Path) -> str:
    folder, *parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([IMPORT_NAMES.get(folder, folder), *parts])


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in FOLDERS
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
                # `from acuerdo.index import storage` imports the submodule, not the package's face.
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
    assert {CORE, f"{CORE}.library", ADAPTERS, f"{ADAPTERS}.app"} <= graph.keys()
    assert {"tests.botkit", "benchmarks.query", "benchmarks.benchlib"} <= graph.keys()
    assert "benchmarks.benchlib" in graph["benchmarks.query"]  # `from benchmarks import benchlib`
    assert f"{CORE}.storage" in graph[f"{CORE}.catalogue"]  # `from … import storage`


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def test_the_product_is_imported_only_by_its_installed_names() -> None:
    """Once installed under another name, nothing imports a folder by its bare name: that would
    load a second copy of the module (with its own registries) from the checkout."""
    bare = {folder for folder, name in IMPORT_NAMES.items() if name != folder}
    offenders = {
        (name, target)
        for name, targets in _graph().items()
        for target in targets
        if target.split(".")[0] in bare
    }
    assert offenders == set()


def test_the_import_names_are_the_folders() -> None:
    """What `import` finds under each name is the folder in this checkout, not another copy."""
    for folder, name in IMPORT_NAMES.items():
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations is not None
        found = {Path(location).resolve() for location in spec.submodule_search_locations}
        assert found == {ROOT / folder}


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert _cycles(graph) == [["a", "b", "c"], ["e"]]


def test_the_core_never_imports_telegram() -> None:
    offenders = {
        (name, target)
        for name, targets in _graph().items()
        if _within(name, CORE)
        for target in targets
        if target.split(".")[0] == "telegram"
    }
    assert offenders == set()


def test_bot_uses_only_the_public_face_of_index() -> None:
    offenders = {
        (name, target)
        for name, targets in _graph().items()
        if _within(name, ADAPTERS)
        for target in targets
        if target.startswith(f"{CORE}.") and target not in BOT_MAY_IMPORT
    }
    assert offenders == set()


# -- private names stay in their module ---------------------------------------------------------

CHECKED_FOR_PRIVATE_READS = ("index", "bot", "tests", "benchmarks")

# Underscored names that are public API of their own library.
PUBLIC_DESPITE_UNDERSCORE = frozenset({"_mapping"})  # SQLAlchemy's `Row._mapping`


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _private_definitions(tree: ast.AST) -> set[str]:
    """Private names a file defines: functions, classes, module names and `self._x` attributes."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and _is_self(node.value)
        ):
            names.add(node.attr)
    return {name for name in names if _private(name)}


def _private_reads(tree: ast.AST) -> Iterator[tuple[int, str, str]]:
    """(line, name, code) of each `x._name`, and `getattr`/`setattr`/`hasattr(x, "_name")`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            inherited = (
                isinstance(owner, ast.Call)
                and isinstance(owner.func, ast.Name)
                and owner.func.id == "super"
            )
            if not _is_self(owner) and not inherited:
                yield node.lineno, node.attr, ast.unparse(node)
        elif isinstance(node, ast.Call) and len(node.args) >= 2:
            function = node.func
            called = function.attr if isinstance(function, ast.Attribute) else ""
            called = function.id if isinstance(function, ast.Name) else called
            name = node.args[1]
            if (
                called in ("getattr", "setattr", "hasattr", "delattr")
                and isinstance(name, ast.Constant)
                and isinstance(name.value, str)
                and _private(name.value)
            ):
                yield node.lineno, name.value, ast.unparse(node)


def _parsed(folders: tuple[str, ...]) -> dict[str, ast.AST]:
    return {
        path.relative_to(ROOT).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
    }


def test_no_private_reads_across_modules() -> None:
    """A `_name` defined in index/ or bot/ is read only by a file that defines it too."""
    files = _parsed(CHECKED_FOR_PRIVATE_READS)
    owned: set[str] = set()
    for path, tree in files.items():
        if path.split("/")[0] in PACKAGES:
            owned |= _private_definitions(tree)
    offenders = set()
    for path, tree in files.items():
        own = _private_definitions(tree)
        for line, name, code in _private_reads(tree):
            if name in owned and name not in own:
                offenders.add(f"{path}:{line}: {code}")
    assert sorted(offenders) == []


def test_tests_and_benchmarks_read_no_private_name_of_anyone() -> None:
    """Not even a third-party library's (a benchmark once switched PTB's rate limiter off through
    `bot._rate_limiter`): what tests and benchmarks need, the product offers publicly."""
    offenders = set()
    for path, tree in _parsed(("tests", "benchmarks")).items():
        own = _private_definitions(tree)
        for line, name, code in _private_reads(tree):
            if name not in own and name not in PUBLIC_DESPITE_UNDERSCORE:
                offenders.add(f"{path}:{line}: {code}")
    assert sorted(offenders) == []


def test_nothing_reads_library_internals() -> None:
    """No `library._…` (nor `x.library._…`) outside index/library.py: `Library` offers accessors."""
    offenders = set()
    for path, tree in _parsed(CHECKED_FOR_PRIVATE_READS).items():
        if path == "index/library.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                owner = node.value
                named = owner.id if isinstance(owner, ast.Name) else ""
                named = owner.attr if isinstance(owner, ast.Attribute) else named
                if named == "library":
                    offenders.add(f"{path}:{node.lineno}: {ast.unparse(node)}")
    assert sorted(offenders) == []


def test_the_private_read_rule_sees_a_read() -> None:
    tree = ast.parse("x._hidden\nself._mine\nsuper()._base()\ngetattr(y, '_other', None)\n")
    assert [name for _, name, _ in _private_reads(tree)] == ["_hidden", "_other"]


# One concept per module: past this a module is doing two jobs (the house style's 50–300 lines).
MAX_MODULE_LINES = 300


def _product_modules_over(limit: int) -> dict[str, int]:
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    return {name: lines for name, lines in lengths.items() if lines > limit}


def test_no_product_module_is_over_the_limit() -> None:
    assert _product_modules_over(MAX_MODULE_LINES) == {}


def test_the_length_rule_sees_long_modules() -> None:
    over_50 = _product_modules_over(50)
    assert "index/library.py" in over_50
    assert all(lines > 50 for lines in over_50.values())
