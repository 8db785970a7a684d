from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

# the package is installed editable in .venv; fall back to the source tree when it is not
if importlib.util.find_spec("mobile_ingress") is None:  # pragma: no cover
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from mobile_ingress.simulate import simulate

SMALL = {"devices": 20, "hours": 2.0, "seed": 7}


@pytest.fixture(scope="session")
def small_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`--devices 20 --hours 2 --seed 7`, ascending."""
    out = tmp_path_factory.mktemp("small-asc")
    simulate(out=str(out), **SMALL)
    return out


@pytest.fixture(scope="session")
def small_orders(tmp_path_factory: pytest.TempPathFactory, small_fleet: Path) -> dict[str, Path]:
    outs = {"asc": small_fleet}
    for order in ("desc", "shuffled"):
        out = tmp_path_factory.mktemp(f"small-{order}")
        simulate(out=str(out), order=order, **SMALL)
        outs[order] = out
    return outs
