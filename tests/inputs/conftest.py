"""The inputs' modules are imported from package/bin as splunkd runs them (bin/ on sys.path),
without leaving bytecode there (the build copies package/ as it is)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.dont_write_bytecode = True
BIN = Path(__file__).resolve().parents[2] / "package" / "bin"
if str(BIN) not in sys.path:
    sys.path.insert(0, str(BIN))
