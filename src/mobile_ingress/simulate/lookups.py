"""Lookups the simulated fleet needs, and the small host matcher the planter uses to stay honest.

The host matcher here is only used to check that planted malicious destinations match no
allowlist or baseline row (and that allowlisted twins do); the engine has its own.
"""

from __future__ import annotations

import csv
import ipaddress
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ..engine.lookups import COLUMNS

# The contract's columns, from the engine that reads these files: one definition.
LOOKUP_HEADERS: dict[str, list[str]] = {name: list(columns) for name, columns in COLUMNS.items()}


def shipped_lookups_dir() -> Path:
    """The lookups shipped with the package (package data; a symlink to package/lookups in the tree)."""
    return Path(__file__).resolve().parent.parent / "lookups"


def read_lookup(name: str, folder: Path | None = None) -> list[dict[str, str]]:
    path = (folder or shipped_lookups_dir()) / f"mobile_ingress_{name}.csv"
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = []
        for row in csv.DictReader(fh):
            if str(row.get("disabled") or "").strip().lower() in ("true", "1", "yes"):
                continue
            rows.append({k: (v or "") for k, v in row.items() if k is not None})
        return rows


def write_lookup(
    folder: Path, name: str, rows: Iterable[Mapping[str, object]], extra_columns: Sequence[str] = ()
) -> Path:
    os.makedirs(folder, exist_ok=True)
    path = folder / f"mobile_ingress_{name}.csv"
    columns = list(LOOKUP_HEADERS[name]) + [c for c in extra_columns if c not in LOOKUP_HEADERS[name]]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: ("" if row.get(c) is None else row.get(c)) for c in columns})
    return path


def normalize_host(host: str) -> str:
    h = host.strip().lower()
    if h.startswith("[") and "]" in h:
        return h[1 : h.index("]")]
    if h.count(":") == 1:
        h = h.split(":", 1)[0]
    return h.rstrip(".")


def _ip(value: str) -> ipaddress._BaseAddress | None:
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def host_matches(pattern: str, host: str) -> bool:
    """Contract section 2 host rule: exact host, `*.suffix` at label boundaries, IP, or CIDR."""
    pattern = pattern.strip()
    if pattern == "*":
        return True
    h = normalize_host(host)
    addr = _ip(h)
    if "/" in pattern:
        if addr is None:
            return False
        try:
            net = ipaddress.ip_network(pattern, strict=False)
        except ValueError:
            return False
        return addr.version == net.version and addr in net
    p_addr = _ip(pattern)
    if p_addr is not None or addr is not None:
        return p_addr is not None and addr is not None and p_addr == addr
    p = normalize_host(pattern)
    if p.startswith("*."):
        suffix = p[2:]
        return h == suffix or h.endswith("." + suffix)
    return h == p


def any_row_matches(
    rows: Iterable[Mapping[str, object]],
    column: str,
    hosts: Iterable[str],
    app_id: str | None = None,
    app_column: str = "app_id",
) -> bool:
    wanted = [h for h in hosts if h]
    for row in rows:
        row_app = str(row.get(app_column) or "").strip()
        if app_id is not None and row_app not in ("", "*", app_id):
            continue
        for h in wanted:
            if host_matches(str(row.get(column) or ""), h):
                return True
    return False
