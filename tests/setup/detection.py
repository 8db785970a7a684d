"""What the detection sees: lookups loaded the way `ingresscorrelate` loads them (the KV store
collection through KVStoreReader first, then the `_local` CSV, then the shipped CSV), and the
engine's findings over a few events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from splunklib.client import Service

from mobile_ingress.engine.detector import Detector
from mobile_ingress.engine.lookups import Lookups
from mobile_ingress.engine.settings import Settings
from mobile_ingress.engine.stream import Order
from tests.splunk import scp

from .standin import APP, SESSION_KEY, StandIn


def search_lookups(stand_in: StandIn, app_dir: Path) -> Lookups:
    scp.load_command_module()  # package/bin on sys.path, as when splunkd runs the command
    from mobile_ingress_splunk.command_support import lookup_sources
    from mobile_ingress_splunk.kvstore import KVStoreReader

    service = Service(scheme="http", host="127.0.0.1", port=stand_in.port, token=SESSION_KEY)
    return Lookups.load(lookup_sources(str(app_dir), KVStoreReader(service, APP)))


def findings(lookups: Lookups, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    detector = Detector(Settings(), lookups, Order.ANY)
    for i, event in enumerate(events):
        detector.add_record(event, f"event {i}")
    found, _ = detector.finish()
    return [f.to_dict() for f in found]


def chain(dest: str, file_name: str = "payload.apk", app: str = "com.example.game") -> list[dict[str, Any]]:
    """An Android app retrieves FILE_NAME from DEST and stages it 10 s later in its files/."""
    return [
        {
            "_time": 1000,
            "activity": "retrieval",
            "platform": "android",
            "device_id": "d1",
            "app_id": app,
            "dest": dest,
            "url": f"https://{dest}/p/{file_name}",
            "bytes_in": 200000,
            "event_id": "r1",
        },
        {
            "_time": 1010,
            "activity": "file_create",
            "platform": "android",
            "device_id": "d1",
            "app_id": app,
            "file_path": f"/data/data/{app}/files/{file_name}",
            "file_size": 200000,
            "event_id": "f1",
        },
    ]
