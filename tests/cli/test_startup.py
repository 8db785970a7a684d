"""The command line starts without the simulator's data: only `simulate` reads it."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from mobile_ingress.cli.main import build_parser
build_parser().parse_args(["detect", "x.ndjson"])
loaded = sorted(m for m in sys.modules if m.startswith("mobile_ingress.simulate."))
print(",".join(loaded))
"""


def _loaded_after(probe: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return [name for name in out.strip().split(",") if name]


def test_building_the_parser_reads_no_simulator_data() -> None:
    loaded = _loaded_after(PROBE)
    assert "mobile_ingress.simulate.datafiles" not in loaded
    assert "mobile_ingress.simulate.catalog" not in loaded


def test_the_simulator_still_loads_its_data_when_used() -> None:
    probe = PROBE.replace("loaded = ", "from mobile_ingress.simulate import simulate\nloaded = ")
    assert "mobile_ingress.simulate.datafiles" in _loaded_after(probe)
