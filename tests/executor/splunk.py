"""One offline Splunk instance with one app installed: its events, macros, lookups, KV store and
saved searches, and `search()` to run SPL over them (see README.md)."""

from __future__ import annotations

import csv
import io
import random
import shutil
import tempfile
import weakref
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import (
    commands,  # noqa: F401  (registers the commands)
    pipeline,
)
from . import macros as macro_expansion
from .conf import read_conf
from .custom import custom_spec
from .errors import SplError
from .kvstore import KVStore
from .limits import Limits
from .pipeline import Message, Runtime, Spec
from .props import IndexedEvent, PropsModel, StoredEvent
from .splunkd import StandInSplunkd
from .timeutil import relative

__all__ = ["IndexedEvent", "Message", "Results", "Splunk"]


@dataclass
class Results:
    rows: list[dict[str, Any]]
    fields: list[str]
    messages: list[Message]
    saved_search: dict[str, str] | None = None
    sid: str = ""
    search: str = ""  # the search after macro expansion

    def texts(self, level: str) -> list[str]:
        return [m.text for m in self.messages if m.level == level]


class EventStore:
    """Indexed events in `_time` order (ties by arrival)."""

    def __init__(self) -> None:
        self.events: list[StoredEvent] = []
        self.times: list[float] = []
        self._sorted = True

    def add(self, event: StoredEvent) -> None:
        if self.events and event.time < self.events[-1].time:
            self._sorted = False
        self.events.append(event)

    def _ensure_sorted(self) -> None:
        if not self._sorted:
            self.events.sort(key=lambda e: (e.time, e.serial))
            self._sorted = True
        if len(self.times) != len(self.events):
            self.times = [e.time for e in self.events]

    def window(self, earliest: float | None, latest: float | None) -> Iterator[StoredEvent]:
        """Events with earliest <= _time < latest (None: unbounded)."""
        self._ensure_sorted()
        start = 0 if earliest is None else bisect_left(self.times, earliest)
        end = len(self.events) if latest is None else bisect_left(self.times, latest)
        return iter(self.events[start:end])

    def __len__(self) -> int:
        return len(self.events)


@dataclass
class _Counter:
    searches: int = 0
    serial: int = 0
    last_time_by_source: dict[tuple[str, str], float] = field(default_factory=dict)


class Splunk:
    """An instance with the app at `app_dir` (laid out like package/: default/*.conf, lookups/,
    bin/). Its lookups live in a temporary copy of the app folder (`self.app_dir`), which custom
    commands get as their app folder."""

    def __init__(self, app_dir: Path, seed: int = 0, chunk_size: int = 200) -> None:
        self.source_app_dir = Path(app_dir).resolve()
        default = self.source_app_dir / "default"
        if not default.is_dir():
            raise SplError(f"{self.source_app_dir} is not an app folder (no default/)")
        self.limits = Limits.default()
        self.rng = random.Random(seed)
        self.chunk_size = chunk_size
        app_conf = read_conf(default / "app.conf")
        self.app_name = app_conf.get("package", {}).get("id") or self.source_app_dir.name
        self._tmp = tempfile.TemporaryDirectory(prefix="spl-executor-")
        self.work_dir = Path(self._tmp.name)
        self.app_dir = self.work_dir / self.app_name
        (self.app_dir / "lookups").mkdir(parents=True)
        shutil.copytree(default, self.app_dir / "default")
        source_lookups = self.source_app_dir / "lookups"
        if source_lookups.is_dir():
            for path in source_lookups.iterdir():
                if path.is_file():
                    shutil.copy(path, self.app_dir / "lookups" / path.name)
        self.lookups_dir = self.app_dir / "lookups"
        self.macros: dict[str, dict[str, str]] = read_conf(default / "macros.conf")
        self.transforms = read_conf(default / "transforms.conf")
        self.commands_conf = read_conf(default / "commands.conf")
        self.savedsearches: dict[str, dict[str, str]] = read_conf(default / "savedsearches.conf")
        self.props = PropsModel(
            read_conf(default / "props.conf"),
            read_conf(default / "eventtypes.conf"),
            read_conf(default / "tags.conf"),
            self.limits,
        )
        self.kvstore = KVStore(
            read_conf(default / "collections.conf"), self.limits.kv_max_rows_per_query, self.rng
        )
        self.kvstore.max_documents_per_batch_save = self.limits.kv_max_documents_per_batch_save  # type: ignore[attr-defined]
        self.store = EventStore()
        self.installed_apps: dict[str, dict[str, str]] = {}
        # Data models whose acceleration summaries are complete (tstats summariesonly=true reads
        # only those); by default every vendored CIM model, as in an ES deployment.
        self.accelerated_datamodels: set[str] = {"Endpoint", "Web", "Network_Traffic"}
        self._splunkd: StandInSplunkd | None = None
        self._counter = _Counter()
        self._finalizer = weakref.finalize(self, Splunk._cleanup, self._tmp, [None])

    # ------------------------------------------------------------------------ lifecycle

    @staticmethod
    def _cleanup(tmp: tempfile.TemporaryDirectory[str], server: list[StandInSplunkd | None]) -> None:
        if server[0] is not None:
            server[0].close()
        tmp.cleanup()

    def close(self) -> None:
        if self._splunkd is not None:
            self._splunkd.close()
            self._splunkd = None
        self._finalizer()

    def __enter__(self) -> Splunk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def splunkd(self) -> StandInSplunkd:
        if self._splunkd is None:
            self._splunkd = StandInSplunkd(self.kvstore, self.app_name, confs=self)
            self._finalizer.detach()
            self._finalizer = weakref.finalize(self, Splunk._cleanup, self._tmp, [self._splunkd])
        return self._splunkd

    # ------------------------------------------------------------------------ configuration

    def set_macro(self, name: str, definition: str, args: Iterable[str] = (), iseval: bool = False) -> None:
        """Like a local/macros.conf stanza: `name` (or `name(N)` with N args) overrides the app's."""
        names = list(args)
        stanza_name = f"{name}({len(names)})" if names and "(" not in name else name
        stanza = {"definition": definition}
        if names:
            stanza["args"] = ", ".join(names)
        if iseval:
            stanza["iseval"] = "1"
        self.macros[stanza_name] = stanza

    def add_props(self, stanza: str, settings: Mapping[str, str]) -> None:
        """A props.conf stanza for a test-only sourcetype (or replacing the app's)."""
        self.props.add_stanza(stanza, dict(settings))
        for event in self.store.events:
            event.fields = None

    def write_local_lookup(self, filename: str, rows: Iterable[Mapping[str, Any]]) -> Path:
        """Write a CSV into the instance's lookups/ (e.g. `..._local.csv` of a setup-page edit)."""
        rows = list(rows)
        columns: list[str] = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(
                [
                    "\n".join(v) if isinstance(v, list) else "" if v is None else str(v)
                    for v in (row.get(c) for c in columns)
                ]
            )
        path = self.lookups_dir / filename
        path.write_text(out.getvalue(), encoding="utf-8")
        return path

    def custom_command_spec(self, name: str) -> Spec | None:
        stanza = self.commands_conf.get(name)
        return None if stanza is None else custom_spec(self, name, stanza)

    # ------------------------------------------------------------------------ events

    def add_events(self, events: Iterable[IndexedEvent]) -> None:
        counter = self._counter
        for event in events:
            counter.serial += 1
            source_key = (event.host, event.source)
            stored = self.props.index(event, counter.serial, counter.last_time_by_source.get(source_key))
            counter.last_time_by_source[source_key] = stored.time
            self.store.add(stored)

    # ------------------------------------------------------------------------ searching

    def expand(self, spl: str) -> str:
        return macro_expansion.expand(spl, self.macros)

    def check(self, spl: str) -> list[Any]:
        """Parse a search and its subsearches without running it (macros expanded)."""
        return pipeline.check(self.expand(spl), self)

    def search(
        self,
        spl: str,
        now: float,
        earliest: str | float | None = None,
        latest: str | float | None = None,
        saved_search: dict[str, str] | None = None,
    ) -> Results:
        """Run a search at time `now` over [earliest, latest) (time modifiers or epoch seconds;
        no earliest and no latest: all time; an earliest alone: latest is now)."""
        text = self.expand(spl)
        earliest_text = "" if earliest is None else str(earliest)
        latest_text = "" if latest is None else str(latest)
        earliest_epoch = None if earliest_text == "" else relative(earliest_text, now)
        if latest_text == "":
            latest_epoch = None if earliest_epoch is None else now
        else:
            latest_epoch = relative(latest_text, now)
        self._counter.searches += 1
        sid = f"{now:.0f}.{self._counter.searches}"
        rt = Runtime(
            self,
            float(now),
            earliest_epoch,
            latest_epoch,
            earliest_text,
            latest_text,
            self.rng,
            sid,
            search_text=text,
        )
        rt.eval_ctx.now = float(now)
        table = pipeline.run(text, rt)
        return Results(table.rows, table.field_order(), rt.messages, saved_search, sid, text)

    def run_saved_search(self, name: str, now: float) -> Results:
        stanza = self.savedsearches.get(name)
        if stanza is None:
            raise SplError(f"no saved search {name}")
        earliest = stanza.get("dispatch.earliest_time") or None
        latest = stanza.get("dispatch.latest_time") or None
        return self.search(stanza["search"], now, earliest, latest, saved_search=dict(stanza))
