"""Helpers shared by the simulator tests."""

from __future__ import annotations

import csv
import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ACTIVITIES = {"retrieval", "file_create", "unpack", "load", "handoff", "state"}
STR = (str,)
NUM = (int, float)
# contract section 1: field -> accepted JSON types
FIELD_TYPES: dict[str, tuple] = {
    "_time": NUM,
    "activity": STR,
    "platform": STR,
    "device_id": STR,
    "app_id": STR,
    "user": STR,
    "event_id": STR,
    "dest": STR,
    "dest_ip": STR,
    "dest_port": (int,),
    "url": STR,
    "src_ip": STR,
    "bytes_in": (int,),
    "retrieval_method": STR,
    "file_path": STR,
    "file_name": STR,
    "file_size": (int,),
    "file_hash": STR,
    "file_type": STR,
    "target_path": STR,
    "load_method": STR,
    "target_app": STR,
    "app_state": STR,
    "device_locked": (bool,),
    "recent_user_interaction": (bool,),
}
ENUMS = {
    "platform": {"android", "ios"},
    "retrieval_method": {"download_manager", "http", "stream", "other"},
    "load_method": {"dexclassloader", "loadlibrary", "dlopen", "webview", "install", "other"},
    "app_state": {"foreground", "background"},
}
FILE_ACTIVITIES = {"file_create", "unpack", "load", "handoff"}


def events(out: Path) -> Iterator[dict[str, Any]]:
    with open(out / "events.ndjson", encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def truth(out: Path) -> list[dict[str, Any]]:
    with open(out / "ground_truth.ndjson", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def lookup(out: Path, name: str) -> list[dict[str, str]]:
    with open(out / "lookups" / f"mobile_ingress_{name}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh))


def is_private_v4(ip: str) -> bool:
    a = ipaddress.ip_address(ip)
    return a.version == 4 and any(
        a in ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
    )


def key(row: dict[str, Any]) -> tuple:
    """The precision/recall matching key of a ground-truth row or a finding."""
    return (
        row["analytic_id"],
        row["device_id"],
        row["app_id"],
        row["file_path"] or row["dest"],
        round(row["time"] * 1000),
    )
