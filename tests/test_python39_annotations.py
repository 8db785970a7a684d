"""The shipped code keeps to Python 3.9 (Splunk 9) while its annotations use `X | None`.

That is safe only because no annotation is evaluated at run time: every module that defines a
function or class starts with `from __future__ import annotations`. ruff (target py39) and vermin
(3.9-) check the rest of the syntax in `make lint`."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(
    p for p in (ROOT / "src").rglob("*.py") if "def " in p.read_text() or "class " in p.read_text()
)


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(ROOT)) for p in MODULES])
def test_every_module_with_annotations_defers_their_evaluation(path: Path) -> None:
    assert "from __future__ import annotations" in path.read_text(encoding="utf-8")


def test_the_guard_sees_the_engine() -> None:
    assert any(p.name == "chain.py" for p in MODULES)
