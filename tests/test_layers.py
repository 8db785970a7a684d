"""No module imports up a layer: engine -> standard library only; cli/simulate -> engine."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "mobile_ingress"
STDLIB = set(sys.stdlib_module_names)
ALLOWED = {
    "engine": {"engine"},
    "cli": {"engine", "cli", "simulate", "normalize"},  # the CLI wires the simulator and --raw
    "simulate": {"simulate", "engine"},
    "normalize": {"normalize", "engine"},
}


def imports_of(path: Path) -> list[tuple[str, int]]:
    """(top-level module or mobile_ingress sub-package, level) for each import."""
    found = []
    package = path.relative_to(SRC).parts[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((alias.name.split(".")[0], 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0:
                found.append((module.split(".")[0], 0))
            elif node.level == 1:
                found.append((package, 1))
            else:
                found.append(((module.split(".")[0] or "mobile_ingress"), node.level))
    return found


MODULES = sorted(p for p in SRC.rglob("*.py") if p.parent != SRC and "lookups" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(SRC)) for p in MODULES])
def test_modules_import_only_their_own_layer_or_below(path: Path) -> None:
    layer = path.relative_to(SRC).parts[0]
    for name, level in imports_of(path):
        if level == 0:
            if name == "mobile_ingress":
                pytest.fail(f"{path.name}: use relative imports inside the package")
            if layer == "engine":
                assert name in STDLIB or name == "__future__", (
                    f"{path.name} imports {name}: engine is stdlib only"
                )
            continue
        if name == "mobile_ingress":  # `from .. import __version__`
            continue
        assert name in ALLOWED[layer], f"{path.name} ({layer}) imports {name}"


def test_the_layer_check_sees_every_package() -> None:
    assert {p.relative_to(SRC).parts[0] for p in MODULES} == set(ALLOWED)
