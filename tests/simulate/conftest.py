from __future__ import annotations

from pathlib import Path

import pytest

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
