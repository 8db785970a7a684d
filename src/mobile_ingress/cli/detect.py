"""`mobile-ingress detect`: read inputs, correlate, write findings and a summary."""

from __future__ import annotations

import difflib
import gc
import heapq
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Callable

from ..engine.compact import Item
from ..engine.detector import Detector
from ..engine.errors import OrderViolation
from ..engine.events import Event
from ..engine.findings import Finding
from ..engine.lookups import LOOKUP_NAMES, Lookups, LookupSource, Row, csv_file_source, lookup_name
from ..engine.prefilter import Prefilter
from ..engine.rules import Rules
from ..engine.settings import Settings
from ..engine.stream import Order
from . import fastread
from .fastread import FastReader, FastReaderMismatch
from .readers import is_ndjson, ndjson_lines, parse_line, plain_record, read_input

SHIPPED_LOOKUPS = Path(__file__).resolve().parent.parent / "lookups"
BATCH = 1024  # items read before the detector takes them (its loop runs once per batch)


class UsageError(Exception):
    """Exit 2: a bad option, element, value, or a missing input or lookups folder."""


def lookup_sources(
    folder: str | None, inventory: LookupSource | None = None
) -> dict[str, list[LookupSource]]:
    """For each lookup, in the order Splunk reads them (KV store, `_local` CSV, shipped CSV: see
    package/bin/mobile_ingress_splunk/command_support.py): for the device inventory, first the rows
    device attribution built from the --raw inputs (in place of the KV store collection Splunk's
    builder writes); then `DIR/mobile_ingress_<name>_local.csv` and `DIR/mobile_ingress_<name>.csv`
    from --lookups; then the shipped file."""
    sources: dict[str, list[LookupSource]] = {}
    for name in LOOKUP_NAMES:
        chain = []
        if name == "device_inventory" and inventory is not None:
            chain.append(inventory)
        if folder is not None:
            chain.extend(csv_file_source(os.path.join(folder, f)) for f in lookup_file_names(name))
        chain.append(csv_file_source(str(SHIPPED_LOOKUPS / (lookup_name(name) + ".csv"))))
        sources[name] = chain
    return sources


def lookup_file_names(name: str) -> tuple[str, str]:
    """The files of lookup NAME in a --lookups folder, the one that wins first."""
    return lookup_name(name) + "_local.csv", lookup_name(name) + ".csv"


def unknown_lookup_files(folder: str) -> list[str]:
    """A warning for each file in FOLDER that no lookup reads (a misspelled name is otherwise
    silently ignored, and the shipped lookup applies), with the closest known name."""
    known = {f for name in LOOKUP_NAMES for f in lookup_file_names(name)}
    # Other files the app ships beside the seven (the MDM role map) are not the engine's, but not
    # a mistake either.
    shipped = {p.name for p in SHIPPED_LOOKUPS.iterdir()} if SHIPPED_LOOKUPS.is_dir() else set()
    warnings = []
    for entry in sorted(os.listdir(folder)):
        if entry in known or entry in shipped or entry.startswith("."):
            continue
        if not os.path.isfile(os.path.join(folder, entry)):
            continue
        close = difflib.get_close_matches(entry, sorted(known), n=1)
        named = f"lookup files are named {lookup_name('<name>')}[_local].csv"
        hint = f" (did you mean {close[0]}?)" if close else f" ({named})"
        warnings.append(f"{os.path.join(folder, entry)}: not a known lookup, not read{hint}")
    return warnings


def load_lookups(folder: str | None, inventory: list[Row] | None = None, label: str = "") -> Lookups:
    """The lookups of --lookups DIR and the shipped files; INVENTORY (device attribution's rows),
    when it has rows, is the device inventory, as the first non-empty source. A file in DIR that
    no lookup reads is a warning of the run."""
    check_lookups(folder)
    attributed = LookupSource(label, lambda: inventory) if inventory else None
    lookups = Lookups.load(lookup_sources(folder, attributed))
    if folder is not None:
        lookups.warnings.extend(unknown_lookup_files(folder))
    return lookups


def lookups_used(lookups: Lookups) -> str:
    """Which source each lookup came from, for the summary: its file (or the --raw inputs'
    device attribution), `shipped` for the shipped file, `empty` when no source has rows."""
    shipped = str(SHIPPED_LOOKUPS)
    parts = []
    for name in LOOKUP_NAMES:
        label = lookups.sources.get(name, "")
        if not label:
            where = "empty"
        elif os.path.dirname(label) == shipped:
            where = "shipped"
        else:
            where = label
        parts.append(f"{name}: {where}")
    return "mobile-ingress: lookups used: " + "; ".join(parts)


def check_lookups(folder: str | None) -> None:
    if folder is not None and not os.path.isdir(folder):
        raise UsageError(f"--lookups {folder}: no such folder")


def parse_settings(pairs: Sequence[str]) -> Settings:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set {pair!r}: expected NAME=VALUE")
        values[name.strip()] = value.strip()
    try:
        return Settings().with_values(values)
    except Exception as exc:  # SettingError: a usage error naming the element
        raise UsageError(f"--set: {exc}") from None


def check_inputs(inputs: Sequence[str]) -> None:
    for path in inputs:
        if path != "-" and not os.path.isfile(path):
            raise UsageError(f"input {path}: no such file")


class Inputs:
    """The inputs as re-readable files (stdin is copied once), so a run can start over."""

    def __init__(self, paths: Sequence[str], stack: ExitStack) -> None:
        self.files: list[tuple[str, str]] = []
        for path in paths:
            if path == "-":
                handle = stack.enter_context(tempfile.NamedTemporaryFile("wb", suffix=".ndjson"))  # noqa: SIM115 (closed by the stack)
                shutil.copyfileobj(sys.stdin.buffer, handle)
                handle.flush()
                self.files.append((handle.name, "<stdin>"))
            else:
                self.files.append((path, path))

    fast: FastReader | None = None

    def use_fast_reader(self, settings: Settings, lookups: Lookups, with_suppressed: bool) -> None:
        """Read NDJSON inputs with the fast reader (`--fast`, the `fast` extra)."""
        if not fastread.available():
            raise UsageError("--fast needs DuckDB: pip install 'mobile-ingress[fast]'")
        rules = Rules(lookups, settings)
        self.fast = FastReader(Prefilter.build(rules, keep_all_retrievals=with_suppressed))

    def event_streams(self, detector: Detector, tick: Callable[[], None]) -> list[Iterator[Event]]:
        """Each input's valid events, normalized in full (`normalize` and `--raw` read these)."""

        def events(path: str, label: str) -> Iterator[Event]:
            for item in self._items(detector, tick, path, label, compact=False):
                assert item.event is not None
                yield item.event

        return [events(path, label) for path, label in self.files]

    def item_streams(self, detector: Detector, tick: Callable[[], None]) -> list[Iterator[Item]]:
        """Each input's valid events as items for the detector (compact where they are clean)."""
        return [self._items(detector, tick, path, label) for path, label in self.files]

    def feed(self, detector: Detector, tick: Callable[[], None]) -> None:
        """Every input in turn into the detector (one input, or any order: no merge by time)."""
        push = detector.pusher()
        for path, label in self.files:
            if self._plain_ndjson(detector, label):
                self._feed_ndjson(detector, tick, path, label)
            else:
                for item in self._items(detector, tick, path, label):
                    push(item)

    def _plain_ndjson(self, detector: Detector, label: str) -> bool:
        return self.fast is None and detector.candidates_first and is_ndjson(label)

    def _feed_ndjson(self, detector: Detector, tick: Callable[[], None], path: str, label: str) -> None:
        """The common case at its fastest: each plain line parsed in C and read compactly (the
        loop of `_items`, pushing as it reads)."""
        compact = detector.compactor.compact
        in_full = detector.item_in_full
        admit = detector.admit_all
        batch: list[Item] = []
        push = batch.append
        compacted = 0
        try:
            for number, text in ndjson_lines(path):
                tick()
                record: Mapping[str, object] | None = plain_record(text)
                if record is None:  # not plainly one flat object: read as `parse_line` reads it
                    record = _parsed(detector, text, f"{label}:{number}")
                    if record is None:
                        continue
                item = compact(record)
                if item is None:
                    item = in_full(record, f"{label}:{number}")
                    if item is None:
                        continue
                else:
                    compacted += 1
                    item.source = text  # a line holds less than its record while it waits
                push(item)
                if len(batch) >= BATCH:
                    admit(batch)
                    batch.clear()
            admit(batch)
        finally:
            detector.count_compact(compacted)

    def _items(
        self, detector: Detector, tick: Callable[[], None], path: str, label: str, compact: bool = True
    ) -> Iterator[Item]:
        if compact and self._plain_ndjson(detector, label):
            # the same loop, handing out what it reads (a merge by time asks for one at a time)
            compact_record = detector.compactor.compact
            in_full = detector.item_in_full
            compacted = 0
            for number, text in ndjson_lines(path):
                tick()
                record: Mapping[str, object] | None = plain_record(text)
                if record is None:  # not plainly one flat object: read as `parse_line` reads it
                    record = _parsed(detector, text, f"{label}:{number}")
                    if record is None:
                        continue
                item = compact_record(record)
                if item is None:
                    item = in_full(record, f"{label}:{number}")
                    if item is None:
                        continue
                else:
                    compacted += 1
                yield item
            detector.count_compact(compacted)
            return
        read = self.fast.read if self.fast is not None else read_input
        for raw in read(path, label):
            tick()
            if raw.irrelevant:  # lines the fast reader proved irrelevant, left unparsed
                detector.count_irrelevant(raw.irrelevant)
                continue
            if raw.record is None:
                _skip_unreadable(detector, raw.where, raw.error)
                continue
            if compact:
                item = detector.item_from(raw.record, raw.where)
            else:
                event = detector.event_from(raw.record, raw.where)
                item = None if event is None else detector.item_of(event)
            if item is not None:
                yield item


def _parsed(detector: Detector, text: str, where: str) -> Mapping[str, object] | None:
    """A line `plain_record` passed over, read as `parse_line` reads it; None (skipped, counted
    and reported) when it is not a record."""
    raw = parse_line(text, where)
    if raw.record is None:
        _skip_unreadable(detector, raw.where, raw.error)
    return raw.record


def _skip_unreadable(detector: Detector, where: str, error: str | None) -> None:
    detector.report.read += 1
    detector.report.skipped[error or "unreadable"] += 1
    detector.report.note(f"{where}: skipped: {error}")


class MessageFile:
    """`--messages FILE`: every message of the run, written as it is noted (the report itself
    keeps the first MAX_MESSAGES for the summary, so memory stays bounded)."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle

    def attach(self, detector: Detector) -> None:
        """Start the file over for this detector's run and copy each message it notes."""
        self.handle.seek(0)
        self.handle.truncate()
        report = detector.report
        for message in report.messages:  # noted before this call (lookup warnings)
            self.handle.write(message + "\n")
        keep = report.note

        def note(message: str) -> None:
            self.handle.write(message + "\n")
            keep(message)

        report.note = note  # type: ignore[method-assign]  # this run's report only


def correlate(
    inputs: Inputs,
    settings: Settings,
    lookups: Lookups,
    order: str,
    with_suppressed: bool,
    tick: Callable[[], None] = lambda: None,
    messages: MessageFile | None = None,
) -> tuple[Detector, list[Finding], list[Finding]]:
    """Run the detection. `auto` streams the inputs merged by time, ascending then descending,
    and falls back to correlating everything at once when the input is in neither order."""
    attempts = [Order(order)] if order != "auto" else [Order.ASC, Order.DESC, Order.ANY]
    # What exists before the run (modules, the lookups) outlives it: the garbage collector need not
    # look at it again and again while a fleet's records pass through (a tenth of the run's time).
    gc.freeze()
    try:
        return _correlate(inputs, settings, lookups, attempts, with_suppressed, tick, messages)
    finally:
        gc.unfreeze()


def _correlate(
    inputs: Inputs,
    settings: Settings,
    lookups: Lookups,
    attempts: list[Order],
    with_suppressed: bool,
    tick: Callable[[], None],
    messages: MessageFile | None,
) -> tuple[Detector, list[Finding], list[Finding]]:
    for attempt in attempts:
        detector = Detector(settings, lookups, attempt, with_suppressed)
        if messages is not None:
            messages.attach(detector)
        push = detector.pusher()
        try:
            no_merge = attempt == Order.ANY  # any order: the inputs one after the other
            if isinstance(inputs, Inputs) and (no_merge or len(inputs.files) == 1):
                inputs.feed(detector, tick)  # no merge by time
            else:
                if isinstance(inputs, Inputs):
                    streams = inputs.item_streams(detector, tick)
                else:  # another source of events (--raw): normalized in full, then taken as items
                    streams = [map(detector.item_of, s) for s in inputs.event_streams(detector, tick)]
                if no_merge or len(streams) == 1:
                    merged: Iterator[Item] = (item for stream in streams for item in stream)
                else:
                    merged = heapq.merge(*streams, key=lambda item: item.time, reverse=attempt == Order.DESC)
                for item in merged:
                    push(item)
        except OrderViolation:
            if attempt == attempts[-1]:
                raise
            continue
        except FastReaderMismatch:  # DuckDB and the file disagree: the reader now reads plainly
            return _correlate(inputs, settings, lookups, attempts, with_suppressed, tick, messages)
        findings, suppressed = detector.finish()
        return detector, findings, suppressed
    raise AssertionError("unreachable: the last attempt either returns or raises")
