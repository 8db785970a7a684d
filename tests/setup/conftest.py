"""Fixtures of the setup page tests: a stand-in splunkd (standin.py), the setup modules of
package/bin over it, and an app folder with the shipped lookups."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .standin import APP, SESSION_KEY, StandIn

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "package" / "bin"
SHIPPED = ROOT / "package" / "lookups"

# As when splunkd runs a handler from bin/; importing must leave no __pycache__ in package/.
sys.dont_write_bytecode = True
if str(BIN) not in sys.path:
    sys.path.insert(0, str(BIN))


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    with server.serving():
        yield server


@pytest.fixture
def splunkd(stand_in: StandIn) -> Any:
    from mobile_ingress_splunk.setup_splunkd import SplunkdSetup
    from splunklib.client import Service

    service = Service(scheme="http", host="127.0.0.1", port=stand_in.port, token=SESSION_KEY)
    return SplunkdSetup(service, APP)


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """An installed app's folder as far as the setup page and the search command read it."""
    app = tmp_path / APP
    (app / "lookups").mkdir(parents=True)
    for path in SHIPPED.glob("*.csv"):
        shutil.copy(path, app / "lookups" / path.name)
    return app
