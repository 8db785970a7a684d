"""The app's own Python in package/bin: Python 3.9-safe annotations, and imports only of the
standard library, splunklib, the engine (never the command line or simulator) and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

BIN = Path(__file__).resolve().parents[2] / "package" / "bin"
MODULES = sorted(BIN.rglob("*.py"))
# splunktaucclib (in the app's lib/) for the setup page's REST handler classes; the MDM inputs
# (mobile_ingress_inputs) sign Google's JWT with the pure-Python rsa and pyasn1(-modules) in lib/,
# and take certifi's CA bundle from Splunk's own Python when it has one (optional import).
ALLOWED = set(sys.stdlib_module_names) | {
    "__future__", "splunklib", "splunktaucclib", "mobile_ingress_splunk",
    "mobile_ingress_inputs", "rsa", "pyasn1", "pyasn1_modules", "certifi",
}  # fmt: skip


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(BIN)) for p in MODULES])
def test_bin_module_defers_annotations_and_imports_only_what_the_app_ships(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if "def " in text or "class " in text:
        assert "from __future__ import annotations" in text
    for node in ast.walk(ast.parse(text)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        for name in names:
            if name.startswith("mobile_ingress."):
                assert name.startswith("mobile_ingress.engine"), f"{path.name} imports {name}"
            else:
                assert name.split(".")[0] in ALLOWED, f"{path.name} imports {name}"


def test_the_check_sees_the_command() -> None:
    assert any(p.name == "ingresscorrelate.py" for p in MODULES)
