"""`detect --raw SOURCETYPE=INPUT`: raw events of a supported sourcetype, normalized by the same
mapping the app's props render (src/mobile_ingress/normalize), then read like normalized input.

A raw line that cannot be normalized (longer than the sourcetype's TRUNCATE, not JSON, not an
object, no timestamp) is skipped, counted and reported with its file and line; the events around
it go on. Detection events (with an `activity`) go to the detector, which validates them as any
normalized event; CIM-only events (conn.log, http.log, EVE flow and http) are counted only.
Joins (a files.log file takes the host and URL of the http.log request whose `resp_fuids` lists
it; an EVE fileinfo those of the http event of its flow and transaction; an Android connection the
host name of the latest DNS lookup of its device and app that returned its address) read their
source inputs once first. This is the whole Splunk path in one: props, then `mobile_ingress_normalize` (the
contract names of vendor-owned sourcetypes, which Python computes directly, and the joins).

Device attribution: the DHCP leases (Zeek dhcp.log, Suricata EVE dhcp) and the MDM device
inventories among the inputs are read once too, into the rows of mobile_ingress_device_inventory
the Splunk builder would write from the same events (normalize/attribution.py); when there are any,
they replace the inventory of `--lookups` and the shipped one, as the KV store collection does in
Splunk, so a flow's `src_ip` resolves to the device that held the address.
"""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import IO, Callable, Protocol

from ..engine.detector import Detector
from ..engine.errors import EngineError
from ..engine.events import Event
from ..engine.lookups import Row
from ..normalize import (
    AsofIndex,
    JoinIndex,
    MappingError,
    Normalized,
    Skip,
    SourcetypeMapping,
    apply,
    load_mappings,
    parse_raw,
)
from ..normalize.attribution import Attribution
from ..normalize.executor import record_time
from ..normalize.expr import fields_read
from .detect import UsageError
from .readers import read_input

INVENTORY_LABEL = "device attribution of the --raw inputs"
SNIFFED = 100  # records of a normal input looked at for the "looks like raw events" hint


class MappingsBroken(EngineError):
    """The installed mappings do not load (exit 1): a packaging fault, not the user's."""


@dataclass
class RawInput:
    mapping: SourcetypeMapping
    path: str
    label: str


@dataclass
class RawCounts:
    read: int = 0
    detection: int = 0
    cim_only: int = 0
    skipped: int = 0


@dataclass
class RawInputs:
    """The --raw inputs, re-readable (stdin is copied once) so a run can start over."""

    inputs: list[RawInput]
    joins: dict[str, JoinIndex] = field(default_factory=dict)  # target sourcetype -> its join index
    asof: dict[str, AsofIndex] = field(default_factory=dict)  # target sourcetype -> its as-of index
    counts: dict[str, RawCounts] = field(default_factory=dict)  # by input label
    host: str = field(default_factory=socket.gethostname)
    attribution: Attribution = field(default_factory=Attribution)
    attributed: list[dict[str, object]] = field(default_factory=list)  # the inventory rows it gives

    @classmethod
    def open(cls, specs: Sequence[str], stack: ExitStack) -> RawInputs:
        try:
            mappings = load_mappings()
        except MappingError as exc:  # a broken install, not a usage error
            raise MappingsBroken(f"normalization mappings: {exc}") from exc
        inputs = []
        for spec in specs:
            sourcetype, sep, path = spec.partition("=")
            sourcetype, path = sourcetype.strip(), path.strip()
            if not sep or not sourcetype or not path:
                raise UsageError(f"--raw {spec!r}: expected SOURCETYPE=INPUT")
            mapping = mappings.get(sourcetype)
            if mapping is None:
                supported = ", ".join(sorted(mappings))
                raise UsageError(f"--raw {sourcetype}: not a supported sourcetype (supported: {supported})")
            if path == "-":
                handle = stack.enter_context(tempfile.NamedTemporaryFile("wb", suffix=".log"))  # noqa: SIM115 (closed by the stack)
                shutil.copyfileobj(sys.stdin.buffer, handle)
                handle.flush()
                inputs.append(RawInput(mapping, handle.name, "<stdin>"))
            elif not os.path.isfile(path):
                raise UsageError(f"--raw {sourcetype}={path}: no such file")
            else:
                inputs.append(RawInput(mapping, path, path))
        raw = cls(inputs)
        raw._index_joins(mappings)
        raw._attribute()
        return raw

    def _attribute(self) -> None:
        """Read the leases and MDM device records among the inputs once (device attribution)."""
        for item in self.inputs:
            if not Attribution.reads(item.mapping.sourcetype):
                continue
            splunk = self._splunk(item)
            for _, line in _lines(item.path, item.mapping.max_event_bytes):
                record = parse_raw(line, item.mapping) if line is not None else None
                if record is None or isinstance(record, Skip):
                    continue
                result = apply(item.mapping, record, splunk)
                if not isinstance(result, Skip):
                    self.attribution.add(item.mapping.sourcetype, result.fields)
        self.attributed = self.attribution.rows()

    def inventory(self) -> list[Row]:
        """The device inventory the inputs attribute, as lookup rows: none when no address span
        resolves to a device (leases without the MDM records that name their MACs, or MDM records
        without leases), so a --lookups inventory then still applies."""
        if not any(r["ip"] is not None and r["device_id"] for r in self.attributed):
            return []
        return [
            Row({name: _cell(value) for name, value in values.items()}, f"{INVENTORY_LABEL}: row {n}")
            for n, values in enumerate(self.attributed, start=1)
        ]

    def attribution_summary(self) -> str | None:
        rows = self.attributed
        if not rows:
            return None
        devices = sum(1 for r in rows if r["ip"] is None)
        spans = [r for r in rows if r["ip"] is not None]
        unattributed = [r for r in spans if not r["device_id"]]
        randomized = sum(1 for r in unattributed if r["mac_randomized"])
        ambiguous = sum(1 for r in unattributed if int(str(r["mac_devices"] or 0)) > 1)
        return (
            f"device attribution: {devices} MDM device records with a MAC, {len(spans)} address spans"
            f" ({len(spans) - len(unattributed)} attributed, {randomized} of a randomized MAC,"
            f" {ambiguous} of a MAC several devices report, {len(unattributed) - randomized - ambiguous}"
            " of an unmanaged device); they replace mobile_ingress_device_inventory"
        )

    def _index_joins(self, mappings: dict[str, SourcetypeMapping]) -> None:
        """Read each join's source inputs once: the joined values by key."""
        targets = {i.mapping.sourcetype for i in self.inputs if i.mapping.join is not None}
        for sourcetype in sorted(targets):
            join = mappings[sourcetype].join
            assert join is not None
            index = JoinIndex(join, mappings[join.source.sourcetype])
            for item in self.inputs:
                if item.mapping.sourcetype != join.source.sourcetype:
                    continue
                for _, line in _lines(item.path, item.mapping.max_event_bytes):
                    record = parse_raw(line, item.mapping) if line is not None else None
                    if record is not None and not isinstance(record, Skip):
                        index.add(record, self._splunk(item))
            self.joins[sourcetype] = index
        for sourcetype in sorted({i.mapping.sourcetype for i in self.inputs if i.mapping.asof_join}):
            mapping = mappings[sourcetype]
            assert mapping.asof_join is not None
            asof = AsofIndex(mapping.asof_join)
            for item in self.inputs:
                if item.mapping.sourcetype != sourcetype:
                    continue
                for _, line in _lines(item.path, item.mapping.max_event_bytes):
                    record = parse_raw(line, item.mapping) if line is not None else None
                    if record is not None and not isinstance(record, Skip):
                        asof.add(record, record_time(mapping, record))
            self.asof[sourcetype] = asof

    def _splunk(self, item: RawInput) -> dict[str, str]:
        return {"host": self.host, "source": item.label}

    def event_streams(self, detector: Detector, tick: Callable[[], None]) -> list[Iterator[Event]]:
        self.counts = {item.label: RawCounts() for item in self.inputs}
        return [self._events(item, detector, tick) for item in self.inputs]

    def normalized(self, item: RawInput) -> Iterator[tuple[int, Normalized | Skip]]:
        """(line number, fields or why not) of each line of ITEM: the mapping, then its join."""
        join = self.joins.get(item.mapping.sourcetype)
        asof = self.asof.get(item.mapping.sourcetype)
        splunk = self._splunk(item)
        for number, line in _lines(item.path, item.mapping.max_event_bytes):
            if line is None:
                limit = item.mapping.max_event_bytes
                yield number, Skip(f"raw event longer than {limit} bytes (Splunk TRUNCATE)")
                continue
            record = parse_raw(line, item.mapping)
            if isinstance(record, Skip):
                yield number, record
                continue
            result = apply(item.mapping, record, splunk)
            if asof is not None and not isinstance(result, Skip):
                asof.fill(result, record)
            if join is not None and not isinstance(result, Skip):
                join.fill(result, record)
            yield number, result

    def _events(self, item: RawInput, detector: Detector, tick: Callable[[], None]) -> Iterator[Event]:
        counts = self.counts[item.label]
        for number, result in self.normalized(item):
            tick()
            counts.read += 1
            where = f"{item.label}:{number}"
            if isinstance(result, Skip):
                skip = result
                counts.skipped += 1
                detector.report.read += 1
                detector.report.skipped[skip.reason] += 1
                detail = f" ({skip.detail})" if skip.detail else ""
                detector.report.note(f"{where}: skipped: {skip.reason}{detail}")
                continue
            normalized = result
            if normalized.activity is None:
                counts.cim_only += 1
                continue
            counts.detection += 1
            event = detector.event_from(normalized.fields, where)
            if event is not None:
                yield event

    def summary(self) -> list[str]:
        lines = []
        attributed = self.attribution_summary()
        if attributed is not None:
            lines.append(attributed)
        for item in self.inputs:
            c = self.counts.get(item.label, RawCounts())
            lines.append(
                f"raw {item.mapping.sourcetype} {item.label}: {c.read} lines, {c.detection} detection events,"
                f" {c.cim_only} CIM only, {c.skipped} skipped"
            )
        return lines


def recognised_sourcetype(record: object, mappings: dict[str, SourcetypeMapping]) -> str | None:
    """The supported sourcetype whose mapping reads RECORD best, or None: the mapping finds its
    timestamp in it (`apply` does not skip it), and fills the largest share of its outputs that read
    the record's own fields (constants and Splunk's host/source fill for any record), then the most
    of them. Recognition is the mapping itself, so a sourcetype added to normalize/mappings is
    recognised too."""
    if not isinstance(record, dict):
        return None
    best, best_score = None, (0.0, 0)
    for sourcetype, mapping in sorted(mappings.items()):
        result = apply(mapping, record)
        if isinstance(result, Skip):
            continue
        reading = [o.name for o in mapping.outputs if any(True for _ in fields_read(o.expr))]
        filled = sum(1 for name in reading if name in result.fields)
        score = (filled / len(reading) if reading else 0.0, filled)
        if filled and score > best_score:
            best, best_score = sourcetype, score
    return best


def raw_input_hint(path: str, label: str) -> str | None:
    """`looks like <sourcetype>: use --raw <sourcetype>=<file>` when most of the first records of a
    normal INPUT are raw events of one supported sourcetype (the engine skips each of them), else
    None. A normalized event has `_time`, which no mapping reads as its timestamp."""
    try:
        mappings = load_mappings()
    except MappingError:  # a broken install: `--raw` reports it; a hint is not worth an error
        return None
    seen: dict[str | None, int] = {}
    total = 0
    for raw in read_input(path, label):
        if total >= SNIFFED:
            break
        total += 1
        if raw.record is not None:
            sourcetype = recognised_sourcetype(dict(raw.record), mappings)
            seen[sourcetype] = seen.get(sourcetype, 0) + 1
    ranked = sorted(((n, st) for st, n in seen.items() if st is not None), reverse=True)
    if not ranked or ranked[0][0] * 2 <= total:
        return None
    sourcetype = ranked[0][1]
    return f"{label}: looks like {sourcetype}: use --raw {sourcetype}={label}"


def _cell(value: object) -> str:
    """A lookup cell's text, as a CSV or the KV store would give it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _open_binary(path: str) -> IO[bytes]:
    if path.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _lines(path: str, limit: int) -> Iterator[tuple[int, str | None]]:
    """(line number, text) of each non-blank line; text None for a line over LIMIT bytes, which
    is read past without holding it whole."""
    with _open_binary(path) as handle:
        number = 0
        while True:
            chunk = handle.readline(limit + 2)
            if not chunk:
                return
            number += 1
            if not chunk.endswith(b"\n") and len(chunk) >= limit + 2:
                while chunk and not chunk.endswith(b"\n"):
                    chunk = handle.readline(1 << 16)
                yield number, None
                continue
            text = chunk.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
            if text:
                yield number, text


class EventSource(Protocol):
    def event_streams(self, detector: Detector, tick: Callable[[], None]) -> list[Iterator[Event]]: ...


class WithRaw:
    """Normalized inputs and --raw inputs, read together by `correlate`."""

    def __init__(self, inputs: EventSource, raw: RawInputs) -> None:
        self.inputs = inputs
        self.raw = raw

    def event_streams(self, detector: Detector, tick: Callable[[], None]) -> list[Iterator[Event]]:
        return self.inputs.event_streams(detector, tick) + self.raw.event_streams(detector, tick)
