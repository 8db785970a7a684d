"""A Splunk with the add-on installed as docs/splunk.md's install checklist says, replaying a
scenario's raw events: the offline executor (tests/executor) runs every shipped saved search on its
cron schedule with its dispatch window, over the events indexed by then; Enterprise Security's
actions (es_actions.py) receive the correlation search's results; setup-page edits go through the
setup page's own code against the executor's splunkd.

The install, step by step (the checklist's numbers):
1-2. the app's confs and lookups (the executor reads package/); the data macros' shipped indexes
     (mobile, netflow, netids) are the scenario's, and the scenario's site networks lie inside the
     shipped mobile_ingress_device_networks;
5. the scenario's DHCP leases are Zeek dhcp.log (site A) and Suricata EVE dhcp (site B), in the
   indexes mobile_ingress_dhcp ships with; mobile_ingress_ip_sources stays as shipped (no other
   address source);
6-9. every scheduled saved search enabled; mobile_ingress_destination_baseline_initial run by hand
     at install, before any data (the gate then says the baseline is empty), the update daily.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.executor import IndexedEvent, Results, Splunk

from .es_actions import EnterpriseSecurity
from .model import Edit, EditKind
from .scenario import Scenario
from .schedule import Cron

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "package"
INITIAL_BASELINE = "mobile_ingress_destination_baseline_initial"
# Where splunkd would read the app's logs from (the replay writes them under a temporary home).
SPLUNK_LOGS = "/opt/splunk/var/log/splunk/"
# Runs at the same minute go builders first, then the baseline, then the correlation (Splunk runs
# them concurrently; a fixed order keeps the replay deterministic).
KIND_ORDER = ("lookup_builder", "baseline", "maintenance", "correlation")


@dataclass
class Run:
    name: str
    now: int
    results: Results


@dataclass
class Deployment:
    scenario: Scenario
    seed: int = 0
    chunk_size: int = 500
    sp: Splunk = field(init=False)
    es: EnterpriseSecurity = field(default_factory=EnterpriseSecurity)
    runs: list[Run] = field(default_factory=list)
    applied: list[Edit] = field(default_factory=list)
    clock: int = 0
    log_offsets: dict[str, int] = field(default_factory=dict)
    logged: list[tuple[int, str]] = field(default_factory=list)  # (run time, line) indexed into _internal

    def __post_init__(self) -> None:
        # The app's commands log under $SPLUNK_HOME/var/log/splunk, which splunkd indexes into
        # _internal (the Data health dashboard reads it): the replay does the same.
        self._home = tempfile.TemporaryDirectory(prefix="replay-splunk-home-")
        self._old_home = os.environ.get("SPLUNK_HOME")
        os.environ["SPLUNK_HOME"] = self._home.name
        for name in ("ta_mobile_ingress.ingresscorrelate", "ta_mobile_ingress.ingressprefilter"):
            logging.getLogger(name).handlers.clear()
        self.sp = Splunk(app_dir=PACKAGE, seed=self.seed, chunk_size=self.chunk_size)
        self.sp.add_events(
            IndexedEvent(
                index=e.index,
                sourcetype=e.sourcetype,
                source=e.source,
                host=e.host,
                raw=e.raw,
                indextime=float(e.indextime),
                time=e.time,
                # the add-on's modular inputs hand splunkd each event's time (modinput.py)
                given_time=e.source.startswith("mobile_ingress_"),
            )
            for e in self.scenario.events
        )
        self.clock = int(self.scenario.start)
        self.run(INITIAL_BASELINE, self.clock)

    def close(self) -> None:
        self.sp.close()
        for name in ("ta_mobile_ingress.ingresscorrelate", "ta_mobile_ingress.ingressprefilter"):
            for handler in logging.getLogger(name).handlers:
                handler.close()
            logging.getLogger(name).handlers.clear()
        if self._old_home is None:
            os.environ.pop("SPLUNK_HOME", None)
        else:
            os.environ["SPLUNK_HOME"] = self._old_home
        self._home.cleanup()

    # The schedule -------------------------------------------------------------------------

    def scheduled(self) -> list[tuple[str, Cron]]:
        """Every saved search with a schedule (the admin enabled them all), in KIND_ORDER."""
        searches = []
        for name, stanza in self.sp.savedsearches.items():
            if stanza.get("enableSched") == "1" and stanza.get("cron_schedule"):
                searches.append(
                    (KIND_ORDER.index(self.kind(name)), name, Cron.parse(stanza["cron_schedule"]))
                )
        return [(name, cron) for _, name, cron in sorted(searches, key=lambda item: item[:2])]

    def kind(self, name: str) -> str:
        stanza = self.sp.savedsearches[name]
        if stanza.get("action.correlationsearch.enabled") == "1":
            return "correlation"
        if "destination_baseline" in name:
            return "baseline"
        if name.endswith("_builder"):
            return "lookup_builder"
        return "maintenance"

    def advance(self, until: float) -> None:
        """Run everything scheduled in (clock, until], applying each setup-page edit before the
        runs of its minute."""
        schedule = self.scheduled()
        minute = (self.clock // 60 + 1) * 60
        while minute <= until:
            for edit in self.scenario.edits:
                if edit not in self.applied and edit.time <= minute:
                    self.apply(edit)
            for name, cron in schedule:
                if cron.fires(minute):
                    self.run(name, minute)
            minute += 60
        self.clock = int(until)

    def run(self, name: str, now: int) -> Results:
        results = self.sp.run_saved_search(name, now)
        self.runs.append(Run(name, now, results))
        if self.kind(name) == "correlation":
            self.es.receive(name, self.sp.savedsearches[name], results.rows, now)
        self._index_logs(now)
        return results

    def _index_logs(self, now: int) -> None:
        """New lines of the app's log files into _internal, stamped with the replay's time (the
        command wrote them with the machine's clock)."""
        folder = os.path.join(self._home.name, "var", "log", "splunk")
        if not os.path.isdir(folder):
            return
        stamp = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S,000")
        events = []
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as handle:
                handle.seek(self.log_offsets.get(path, 0))
                lines = handle.read().splitlines()
                self.log_offsets[path] = handle.tell()
            for line in lines:
                parts = line.split(" ", 2)
                if len(parts) < 3:
                    continue
                raw = f"{stamp} {parts[2]}"
                self.logged.append((now, raw))
                events.append(
                    IndexedEvent(
                        index="_internal", sourcetype=name[: -len(".log")], source=SPLUNK_LOGS + name,
                        host="sh1", raw=raw, indextime=float(now), time=float(now),
                    )
                )  # fmt: skip
        self.sp.add_events(events)

    # The setup page -----------------------------------------------------------------------

    def setup_splunkd(self) -> Any:
        """The setup page's client of splunkd, against the executor's splunkd."""
        sys.path.insert(0, str(PACKAGE / "bin"))  # deliberate: as splunkd runs the setup handler from bin/
        from mobile_ingress_splunk.setup_splunkd import SplunkdSetup
        from splunklib.client import Service

        splunkd = self.sp.splunkd()
        port = int(splunkd.uri.rsplit(":", 1)[1])
        service = Service(scheme="http", host="127.0.0.1", port=port, token=splunkd.session_key)
        return SplunkdSetup(service, self.sp.app_name)

    def apply(self, edit: Edit) -> None:
        """EDIT as an admin makes it on the setup page (the handlers' own code)."""
        from mobile_ingress_splunk.setup_entries import TABLES
        from mobile_ingress_splunk.setup_settings import DetectionSettings
        from mobile_ingress_splunk.setup_store import AllowlistStore

        splunkd = self.setup_splunkd()
        lookups = str(self.sp.lookups_dir)
        if edit.kind == EditKind.ALLOW_DESTINATION:
            AllowlistStore(splunkd, TABLES["allowed_destinations"], lookups).create(
                "replay-edit", edit.payload
            )
        elif edit.kind == EditKind.RISK_PATTERN:
            AllowlistStore(splunkd, TABLES["file_risk_patterns"], lookups).create("replay-edit", edit.payload)
        elif edit.kind == EditKind.SETTING:
            settings = DetectionSettings(splunkd)
            for name, value in edit.payload.items():
                settings.edit(name, str(value))
        else:
            raise AssertionError(f"unknown edit {edit.kind}")
        self.applied.append(edit)

    # What it produced ---------------------------------------------------------------------

    def runs_of(self, name: str) -> list[Run]:
        return [run for run in self.runs if run.name == name]

    def correlation_name(self) -> str:
        return next(n for n in self.sp.savedsearches if self.kind(n) == "correlation")
