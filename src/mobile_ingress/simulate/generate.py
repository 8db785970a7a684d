"""The simulation driver: fleet -> plan -> per-device events -> ordered events, lookups, ground truth."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import catalog
from .benign import BenignGenerator
from .cases import CONTEXT_ORDER, Truth, android_app_from_path, normalize_path, url_last_segment
from .lookups import write_lookup
from .model import Device, Ev, build_fleet
from .output import EventWriter, sort_key
from .plan import Planner, Zone
from .shapes import DEFAULT, Shape

DEFAULT_START_MS = 1_740_988_800_000  # 2025-03-03T08:00:00Z
EVENTS_PER_DEVICE_HOUR = 55  # rough, only sizes the shuffle buckets


@dataclass
class Result:
    events: int = 0
    devices: int = 0
    expected: int = 0
    near_misses: int = 0
    by_label: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    out: str = ""


def device_events(
    seed: int,
    dev: Device,
    start_ms: int,
    end_ms: int,
    planted: list[Ev],
    zones: list[Zone],
    shape: Shape = DEFAULT,
) -> list[Ev]:
    """All events of one device, sorted, with event ids and the context probes filled in."""
    benign = BenignGenerator(seed, dev, start_ms, end_ms, shape).generate()
    if zones:
        benign = [e for e in benign if not any(z.drops(e) for z in zones)]
    used = {e.ms for e in planted}
    benign.sort(key=lambda e: e.ms)
    kept: list[Ev] = []
    for e in benign:  # one event per millisecond per device: no ties for context ordering
        while e.ms in used:
            e.ms += 1
        if e.ms >= end_ms:
            continue
        used.add(e.ms)
        kept.append(e)
    events = list(planted) + kept
    for i, e in enumerate(events):
        e.order = i
    events.sort(key=lambda e: (e.ms, e.order))
    seq = 0
    for e in events:
        if e.idkind == "dev" and e.dup_of is None:
            seq += 1
            e.event_id = f"{dev.device_id}-{seq:06d}"
    for e in events:
        if e.dup_of is not None:
            e.event_id = e.dup_of.event_id
    probe_context(events)
    return events


def probe_context(events: list[Ev]) -> None:
    """Context in force at each probed event, as the contract defines it (section 1 Context)."""
    locked: bool | None = None
    per_app: dict[str, dict[str, Any]] = {}
    for e in events:
        f = e.fields
        if e.ctx:
            for app in list(e.ctx):
                held = per_app.get(app, {})
                e.ctx[app] = {
                    "app_state": f["app_state"] if "app_state" in f else held.get("app_state"),
                    "recent_user_interaction": (
                        f["recent_user_interaction"]
                        if "recent_user_interaction" in f
                        else held.get("recent_user_interaction")
                    ),
                    "device_locked": f.get("device_locked", locked),
                }
        if "device_locked" in f:
            locked = f["device_locked"]
        owner = f.get("app_id")
        if owner:
            st = per_app.setdefault(owner, {})
            for k in ("app_state", "recent_user_interaction"):
                if k in f:
                    st[k] = f[k]


def ev_ref(e: Ev) -> str:
    if e.event_id is not None:
        return e.event_id
    return f"t={e.ms // 1000}.{e.ms % 1000:03d}"


def truth_row(t: Truth) -> dict[str, Any]:
    ctx_flags = set()
    for probe in t.probes:
        c = probe.ctx.get(t.app_id or "") or {}
        if c.get("app_state") == "background":
            ctx_flags.add("background")
        if c.get("device_locked") is True:
            ctx_flags.add("device_locked")
        if c.get("recent_user_interaction") is False:
            ctx_flags.add("no_user_interaction")
    if catalog.unapproved(t.platform, t.app_id):
        ctx_flags.add("unapproved_role")
    context = [c for c in CONTEXT_ORDER if c in ctx_flags]
    if t.expected and t.intended_context is not None and sorted(context) != sorted(t.intended_context):
        raise AssertionError(
            f"{t.label} on {t.device.device_id}: context {context} != intended {t.intended_context}"
        )
    anchor = t.f if t.f is not None else t.r
    members = [t.r] + ([t.f] if t.f is not None else []) + list(t.extra)
    members.sort(key=lambda e: e.ms)
    row: dict[str, Any] = {
        "finding_id": finding_id(
            t.analytic_id, t.device.device_id, t.app_id, t.file_path() or t.dest, anchor.ms
        ),
        "analytic_id": t.analytic_id,
        "device_id": t.device.device_id,
        "app_id": t.app_id,
        "file_path": t.file_path(),
        "dest": t.dest,
        "time": anchor.ms / 1000,
        "expected": t.expected,
        "clause": t.clause,
        "label": t.label,
        "stages": t.stages,
        "context": context,
        "platform": t.platform,
        "retrieval_time": t.r.ms / 1000,
        "retrieval_event_id": t.r.event_id,
        "file_event_id": t.f.event_id if t.f is not None else None,
        "delta_seconds": (t.f.ms - t.r.ms) / 1000 if t.f is not None else None,
        "confidence": confidence(t),
        "evidence": [ev_ref(e) for e in members],
    }
    if t.r_device is not None and t.r_device is not t.device:
        row["retrieval_device_id"] = t.r_device.device_id
    if t.note:
        row["note"] = t.note
    return row


def finding_id(analytic_id: str, device_id: str, app_id: str | None, path_or_dest: str, ms: int) -> str:
    """docs/contract-decisions.md: first 32 hex digits of SHA-256 over the key joined by '|'."""
    text = "|".join([analytic_id, device_id, app_id or "", path_or_dest, str(ms)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def confidence(t: Truth) -> str:
    if t.f is None:
        return "low"
    f_name = t.f.fields.get("file_name") or normalize_path(t.f.fields["file_path"]).rsplit("/", 1)[-1]
    if url_last_segment(t.r.fields.get("url")) == f_name:
        return "high"
    f_app = t.f.fields.get("app_id")
    if f_app is None and t.platform == catalog.ANDROID:
        f_app = android_app_from_path(t.f.fields["file_path"])
    r_app = t.r.fields.get("app_id")
    return "high" if r_app is not None and r_app == f_app else "medium"


def write_lookups(folder: Path, planner: Planner) -> list[Path]:
    return [
        write_lookup(folder, "destination_baseline", planner.baseline_lookup()),
        write_lookup(folder, "managed_apps", planner.managed_lookup()),
        write_lookup(folder, "device_inventory", planner.inventory_lookup()),
        write_lookup(folder, "allowed_destinations", planner.allowed_destinations_lookup()),
    ]


def simulate(
    devices: int,
    hours: float,
    seed: int,
    out: str,
    order: str = "asc",
    start_ms: int | None = None,
    run_events: int = 100_000,
    shuffle_events: int = 500_000,
    tmp_parent: str | None = None,
    shape: Shape = DEFAULT,
) -> Result:
    """Generate a labelled fleet into `out` (events.ndjson, lookups/, ground_truth.ndjson)."""
    if devices < 1:
        raise ValueError("--devices must be at least 1")
    if not hours > 0:
        raise ValueError("--hours must be positive")
    start = DEFAULT_START_MS if start_ms is None else int(start_ms)
    end = start + round(hours * 3_600_000)
    os.makedirs(out, exist_ok=True)
    fleet = build_fleet(seed, devices)
    planner = Planner(seed, fleet, start, end)
    planner.plan()

    estimate = int(devices * hours * EVENTS_PER_DEVICE_HOUR)
    writer = EventWriter(
        os.path.join(out, "events.ndjson"),
        order,
        seed,
        run_events,
        shuffle_events,
        estimate,
        tmp_parent=tmp_parent or out,
    )
    try:
        for dev in fleet:
            evs = device_events(
                seed, dev, start, end, planner.planted.get(dev.idx, []), planner.zones.get(dev.idx, []), shape
            )
            items = [(sort_key(e.ms, dev.idx, i), e.to_json()) for i, e in enumerate(evs)]
            del evs
            writer.add(items)
            del items
    finally:
        count = writer.close()

    write_lookups(Path(out) / "lookups", planner)

    rows = [truth_row(t) for t in planner.truths]
    rows.sort(key=lambda r: (r["time"], r["device_id"], r["label"]))
    with open(os.path.join(out, "ground_truth.ndjson"), "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, separators=(",", ":"), ensure_ascii=False) + "\n")

    res = Result(events=count, devices=devices, out=out, skipped=dict(planner.skipped))
    for row in rows:
        res.by_label[row["label"]] = res.by_label.get(row["label"], 0) + 1
        if row["expected"]:
            res.expected += 1
        else:
            res.near_misses += 1
    return res
