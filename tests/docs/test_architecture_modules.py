"""docs/ARCHITECTURE.md's module tables name the modules that exist, and every engine module."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
PACKAGE = ROOT / "src" / "mobile_ingress"


def section(title: str) -> str:
    return ARCHITECTURE.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def named_modules(text: str) -> set[str]:
    """The `name.py` of the first cell of each table row."""
    cells = re.findall(r"^\| ([^|]+) \|", text, flags=re.MULTILINE)
    return {m for cell in cells for m in re.findall(r"`([\w/]+\.py)`", cell)}


def test_every_engine_module_is_in_the_engine_table() -> None:
    modules = {p.name for p in (PACKAGE / "engine").glob("*.py")} - {"__init__.py"}
    assert modules - named_modules(section("Inside the engine")) == set()


def test_the_engine_table_names_no_module_that_is_gone() -> None:
    named = named_modules(section("Inside the engine"))
    assert {m for m in named if not (PACKAGE / "engine" / m).is_file()} == set()


def test_the_normalization_and_command_line_table_names_modules_that_exist() -> None:
    named = named_modules(section("Inside normalization and the command line"))
    assert named and {m for m in named if not (PACKAGE / m).is_file()} == set()


def test_every_normalization_module_is_in_its_table() -> None:
    modules = {f"normalize/{p.name}" for p in (PACKAGE / "normalize").glob("*.py") if p.name != "__init__.py"}
    assert modules - named_modules(section("Inside normalization and the command line")) == set()
