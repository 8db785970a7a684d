"""`mobile-ingress detect`: read inputs, correlate, write findings and a summary."""

from __future__ import annotations

import heapq
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Callable

from ..engine.detector import Detector
from ..engine.errors import OrderViolation
from ..engine.events import Event
from ..engine.findings import Finding
from ..engine.lookups import LOOKUP_NAMES, Lookups, LookupSource, csv_file_source, lookup_name
from ..engine.prefilter import Prefilter
from ..engine.rules import Rules
from ..engine.settings import Settings
from ..engine.stream import Order
from . import fastread
from .fastread import FastReader, FastReaderMismatch
from .readers import read_input

SHIPPED_LOOKUPS = Path(__file__).resolve().parent.parent / "lookups"


class UsageError(Exception):
    """Exit 2: a bad option, element, value, or a missing input or lookups folder."""


def lookup_sources(folder: str | None) -> dict[str, list[LookupSource]]:
    """For each lookup: `DIR/mobile_ingress_<name>.csv` from --lookups, then the shipped file."""
    sources: dict[str, list[LookupSource]] = {}
    for name in LOOKUP_NAMES:
        filename = lookup_name(name) + ".csv"
        chain = []
        if folder is not None:
            chain.append(csv_file_source(os.path.join(folder, filename)))
        chain.append(csv_file_source(str(SHIPPED_LOOKUPS / filename)))
        sources[name] = chain
    return sources


def load_lookups(folder: str | None) -> Lookups:
    if folder is not None and not os.path.isdir(folder):
        raise UsageError(f"--lookups {folder}: no such folder")
    return Lookups.load(lookup_sources(folder))


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
        read = self.fast.read if self.fast is not None else read_input

        def events(path: str, label: str) -> Iterator[Event]:
            for raw in read(path, label):
                tick()
                if raw.irrelevant:  # lines the fast reader proved irrelevant, left unparsed
                    detector.count_irrelevant(raw.irrelevant)
                    continue
                if raw.record is None:
                    detector.report.read += 1
                    detector.report.skipped[raw.error or "unreadable"] += 1
                    detector.report.note(f"{raw.where}: skipped: {raw.error}")
                    continue
                event = detector.event_from(raw.record, raw.where)
                if event is not None:
                    yield event

        return [events(path, label) for path, label in self.files]


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
    for attempt in attempts:
        detector = Detector(settings, lookups, attempt, with_suppressed)
        if messages is not None:
            messages.attach(detector)
        streams = inputs.event_streams(detector, tick)
        if attempt == Order.ANY or len(streams) == 1:  # one input needs no merge
            merged: Iterator[Event] = (e for stream in streams for e in stream)
        else:
            merged = heapq.merge(*streams, key=lambda e: e.time, reverse=attempt == Order.DESC)
        try:
            for event in merged:
                detector.add_event(event)
        except OrderViolation:
            if attempt == attempts[-1]:
                raise
            continue
        except FastReaderMismatch:  # DuckDB and the file disagree: the reader now reads plainly
            return correlate(inputs, settings, lookups, order, with_suppressed, tick, messages)
        findings, suppressed = detector.finish()
        return detector, findings, suppressed
    raise AssertionError("unreachable: the last attempt either returns or raises")
