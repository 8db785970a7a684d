"""A seeded, nine-day scenario of raw events of every supported sourcetype, for replaying through
the app's Splunk searches and for `mobile-ingress detect --raw` (tests/replay/README.md).

    from tests.replay.scenario import build_scenario
    sc = build_scenario(seed=7)
    sc.events, sc.planted, sc.edits, sc.fleet, sc.lookups_for_cli(day=7), sc.write_raw(folder)

Same seed, same bytes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .benign import Benign, Containers, Locator
from .cases import EDITS, Planter
from .fleet import build_devices, plan_visits, run_dhcp
from .lookups import BASELINE, INVENTORY, MANAGED, baseline_rows, inventory_rows, managed_rows, write_csv
from .mdm import Inventories, sweep_events, sweeps, usage_events
from .model import END, START, Edit, Fleet, Planted, RawEvent, day_start, rng_for
from .sources import Collector, Renderer, Retrieval

FILES = {
    "bro:conn:json": "bro_conn.json",
    "bro:dhcp:json": "bro_dhcp.json",
    "bro:http:json": "bro_http.json",
    "bro:files:json": "bro_files.json",
    "suricata": "suricata_eve.json",
    "mobile:edr:telemetry": "mobile_edr_telemetry.json",
    "mdm:amapi:usagelog": "mdm_amapi_usagelog.json",
    "mdm:amapi:device": "mdm_amapi_device.json",
    "mdm:amapi:policy": "mdm_amapi_policy.json",
    "mdm:intune:app": "mdm_intune_app.json",
    "mdm:intune:device": "mdm_intune_device.json",
    "mdm:intune:audit": "mdm_intune_audit.json",
    "mdm:jamf:mobiledevice": "mdm_jamf_mobiledevice.json",
}


@dataclass
class Scenario:
    seed: int
    start: int
    end: int
    events: list[RawEvent]
    fleet: Fleet
    planted: list[Planted]
    edits: list[Edit]
    retrievals: list[Retrieval] = field(repr=False)

    def lookups_for_cli(self, day: int = 7) -> dict[str, list[dict[str, str]]]:
        """What a correct builder and baseline would have produced by 00:00 UTC of `day` (lookups.py)."""
        before = day_start(day)
        return {
            INVENTORY: inventory_rows(self.fleet.leases, self.fleet.devices),
            MANAGED: managed_rows(self.events, before),
            BASELINE: baseline_rows(self.retrievals, before),
        }

    def write_lookups(self, folder: str | Path, day: int = 7) -> list[Path]:
        """`lookups_for_cli(day)` as the CSV files `--lookups FOLDER` reads."""
        return write_csv(Path(folder), self.lookups_for_cli(day))

    def write_raw(self, folder: str | Path) -> list[str]:
        """One file per sourcetype (in event time order); returns the `--raw SOURCETYPE=FILE` specs.
        The DHCP leases (Zeek dhcp.log, Suricata's dhcp events) and the MDM device inventories among
        them give the command line its device inventory (device attribution), as the builder's
        KV store collection does in Splunk."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        by_type: dict[str, list[RawEvent]] = {}
        for event in self.events:
            by_type.setdefault(event.sourcetype, []).append(event)
        specs = []
        for sourcetype, name in FILES.items():
            events = sorted(by_type.get(sourcetype, []), key=lambda e: (e.time, e.raw))
            path = out / name
            path.write_text("".join(e.raw + "\n" for e in events), encoding="utf-8")
            specs.append(f"{sourcetype}={path}")
        return specs

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(e.sourcetype for e in self.events).items()))

    def planted_by_label(self, label: str) -> Planted:
        for case in self.planted:
            if case.label == label:
                return case
        raise KeyError(f"no planted case {label!r}")


def constrained_apps(managed: Sequence[dict[str, str]]) -> set[tuple[str, str]]:
    """iOS apps MDM manages with no approved role: AN1849's retrieval-only rule watches them."""
    return {
        (row["platform"], row["app_id"])
        for row in managed
        if row["platform"] == "ios" and row["managed"] == "true" and not row["approved_roles"]
    }


def build_scenario(seed: int = 7) -> Scenario:
    devices = build_devices()
    dhcp = run_dhcp(seed, devices, plan_visits(seed))
    fleet = Fleet(devices, dhcp.leases, dhcp.presence)
    locator = Locator(fleet.presence)
    containers = Containers(seed)
    cases = Planter(seed, fleet, locator, containers).plant()

    inventories = Inventories(seed, devices, locator)
    inventory_events = sweep_events(sweeps(inventories), seed)
    constrained = constrained_apps(managed_rows(inventory_events, END + 86400))

    benign = Benign(seed, fleet, cases.quiet, constrained)
    benign.containers = containers
    collector = Collector()
    renderer = Renderer(seed, locator, collector)
    by_device: dict[str, list] = {}
    for action in benign.actions():
        by_device.setdefault(action.device.device_id, []).append(action)
    for device in devices:
        renderer.render(by_device.get(device.device_id, []), rng_for(seed, "render", device.device_id))
    renderer.render(cases.actions, rng_for(seed, "render", "cases"))

    events = dhcp.events + collector.events + inventory_events + usage_events(seed, collector.usage, devices)
    events.sort(key=lambda e: (e.indextime, e.time, e.sourcetype, e.raw))
    return Scenario(seed, START, END, events, fleet, cases.planted, list(EDITS), collector.retrievals)
