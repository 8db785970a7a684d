"""Events exactly as the inputs write them, from records shaped by the vendors' specifications: each
function runs an input's own code against its stand-in (whose answers tests/inputs/
test_vendor_schemas.py checks against the vendor's specification) and returns what it wrote. The
mapping tests (tests/normalize/test_mdm.py) normalize these, so a mapping is proven on the real
API's shape, not on a sample someone typed."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True  # the build copies package/ as it is: no bytecode there
# Deliberate: the inputs import as splunkd runs them, bin/ on sys.path (also through tests/replay/mdm.py
# outside pytest).
_BIN = str(Path(__file__).resolve().parents[2] / "package" / "bin")
if _BIN not in sys.path:
    sys.path.insert(0, _BIN)

from mobile_ingress_inputs import amapi, intune, jamf  # noqa: E402

from . import fake_google, fake_graph, fake_jamf  # noqa: E402
from .fakeserver import serving  # noqa: E402
from .support import Harness  # noqa: E402


def written(h: Harness) -> list[dict[str, Any]]:
    if h.summaries[-1]["status"] != "ok":
        raise AssertionError(f"the input's run ended {h.summaries[-1]['status']!r}:\n{h.log[-2000:]}")
    return [dict(e.data) for e in h.sink.events]


def jamf_events(devices: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Jamf input's events of DEVICES (fake_jamf.device records)."""
    fake = fake_jamf.FakeJamf(list(devices))
    with serving(fake.server):
        account = jamf.JamfAccount(fake.server.url, fake_jamf.CLIENT_ID, fake_jamf.CLIENT_SECRET).validated(
            True
        )
        h = Harness("jamf")
        h.run(lambda ctx: jamf.streams(ctx, account))
    return written(h)


def intune_events(
    collection: str,
    *,
    devices: Sequence[dict[str, Any]] = (),
    detected: Sequence[dict[str, Any]] = (),
    apps: Sequence[dict[str, Any]] = (),
    store_apps: Sequence[dict[str, Any]] = (),
    audit: Sequence[dict[str, Any]] = (),
    now: float = 1_796_025_600.0,  # 2026-11-30T08:00:00Z
) -> list[dict[str, Any]]:
    """The Intune input's events of one COLLECTION over the given Graph records."""
    fake = fake_graph.FakeGraph()
    fake.devices, fake.detected, fake.apps = list(devices), list(detected), list(apps)
    fake.app_devices = {a["id"]: [] for a in detected}
    fake.store_apps, fake.audit = list(store_apps), list(audit)
    with serving(fake.server):
        account = intune.IntuneAccount(
            fake_graph.TENANT,
            fake_graph.CLIENT_ID,
            fake_graph.CLIENT_SECRET,
            login_url=fake.server.url,
            graph_url=fake.server.url,
        ).validated(True)
        h = Harness("intune", page_size=50)
        h.clock = lambda: now
        h.run(lambda ctx: intune.streams(ctx, account, (collection,)))
    return written(h)


def amapi_device_events(devices: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Android Management API input's device events of DEVICES (fake_google.device records)."""
    fake = fake_google.FakeGoogle()
    fake.devices = list(devices)
    with serving(fake.server):
        acct, key = amapi.AmapiAccount(
            fake_google.ENTERPRISE,
            fake_google.service_account_json(fake.token_uri),
            api_url=fake.server.url,
            pubsub_url=fake.server.url,
        ).validated(True)
        h = Harness("amapi", page_size=50)
        h.run(lambda ctx: amapi.streams(ctx, acct, key, ("devices",)))
    return written(h)
