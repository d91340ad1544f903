"""The README's module table names every module of the product (issue 14: complete and true)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _table_names() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    return {
        name for row in rows for name in re.findall(r"`(?:[\w/]+/)?(\w+\.py)`", row.split("|")[1])
    }


def test_every_product_module_is_in_the_readme_table() -> None:
    modules = {path.name for folder in ("index", "bot") for path in (ROOT / folder).glob("*.py")}
    assert modules - _table_names() == set()


def test_the_tables_name_no_module_that_is_gone() -> None:
    # The README's tables also name test helpers and benchmarks.
    folders = ("index", "bot", "acuerdo", "tests", "benchmarks")
    modules = {path.name for folder in folders for path in (ROOT / folder).glob("*.py")}
    assert _table_names() - modules == set()
