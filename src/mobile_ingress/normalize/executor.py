"""Run a mapping in Python: a raw line becomes the fields Splunk's props would give it.

`normalize_line` is the whole path of one event: the size limit (Splunk's TRUNCATE), the JSON
parse (KV_MODE=json), the timestamp, then every output of the mapping. A detection record has an
`activity`; a record without one is CIM-only (conn.log, http.log, EVE flow/http). A line that
cannot be read is a `Skip` with the reason, never an exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field

from ..engine.errors import InvalidEvent
from ..engine.timeparse import parse_time
from .expr import Value, evaluate, resolve, text
from .model import AsofJoin, Join, SourcetypeMapping, Timestamp

# The fraction of an ISO 8601 time: dropped when props read whole seconds (see Timestamp).
_ISO_FRACTION = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})[.,]\d+")


@dataclass
class Skip:
    """A raw event that cannot be normalized, and why (counted and reported by the caller)."""

    reason: str
    detail: str = ""


@dataclass
class Normalized:
    """All fields of one raw event, `_time` first; `activity` when it is a detection event."""

    fields: dict[str, object]

    @property
    def activity(self) -> object:
        return self.fields.get("activity")


def parse_raw(line: str, mapping: SourcetypeMapping) -> MappingABC[str, object] | Skip:
    """The JSON object of one raw line, or why it is not one."""
    if len(line.encode("utf-8", "surrogatepass")) > mapping.max_event_bytes:
        return Skip(f"raw event longer than {mapping.max_event_bytes} bytes (Splunk TRUNCATE)")
    try:
        value = json.loads(line)
    except RecursionError:
        return Skip("not JSON (nested too deeply)")
    except ValueError as exc:  # JSONDecodeError, and ints longer than Python's digit limit
        return Skip("not JSON", str(exc).split(":", 1)[0])
    if not isinstance(value, dict):
        return Skip("not a JSON object")
    return value


def apply(
    mapping: SourcetypeMapping, record: MappingABC[str, object], splunk: MappingABC[str, str] | None = None
) -> Normalized | Skip:
    """The mapping's outputs for one parsed event; SPLUNK gives host and source (sourcetype is
    the mapping's)."""
    defaults = {**(splunk or {}), "sourcetype": mapping.sourcetype}
    stamp = record_time(mapping, record)
    if stamp is None:
        return Skip(f"missing timestamp ({' or '.join(mapping.timestamp.fields)})")
    fields: dict[str, object] = {"_time": stamp}
    for output in mapping.outputs:
        # A FIELDALIAS (`AS`) whose source is absent removes the target field, so a raw key of the
        # target's name never shows through (props.conf.spec, FIELDALIAS-<class>; since 7.2.4:
        # https://help.splunk.com/splunk-enterprise/release-notes-and-updates/release-notes/9.4/known-issues-for-this-release/field-alias-behavior-change).
        value = evaluate(output.expr, record, defaults)
        if value is not None:
            fields[output.name] = value
    return Normalized(fields)


def record_time(mapping: SourcetypeMapping, record: MappingABC[str, object]) -> object:
    """The event's `_time` value (the first timestamp field present, as props read it), or None."""
    for name in mapping.timestamp.fields:
        stamp = resolve(record, name)
        if stamp is not None:
            return None if isinstance(stamp, list) else props_time(stamp, mapping.timestamp)
    return None


def props_time(stamp: object, timestamp: Timestamp) -> object:
    """The time as the props' TIME_FORMAT reads it: a format without subseconds (the one that
    reads 0, 3, 6 or 9 fraction digits alike) gives whole seconds, so `--raw` drops them too."""
    if isinstance(stamp, str) and timestamp.is_string and not timestamp.reads_subseconds:
        return _ISO_FRACTION.sub(r"\1", stamp.strip())
    return stamp


def normalize_line(
    line: str, mapping: SourcetypeMapping, splunk: MappingABC[str, str] | None = None
) -> Normalized | Skip:
    record = parse_raw(line, mapping)
    if isinstance(record, Skip):
        return record
    return apply(mapping, record, splunk)


@dataclass
class JoinIndex:
    """What a join reads from its source events: for each key, the values of each filled field.

    A source whose key is multivalue (Zeek http.log's `resp_fuids{}`) is added under each of its
    values, as the SPL `mvexpand` of the key does. Splunk's `eventstats values(f) by key | eval
    f=mvindex(values, 0)` keeps the smallest value in sort order; `fill()` does the same."""

    join: Join
    source: SourcetypeMapping
    values: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    def keys_of_source(self, record: MappingABC[str, object]) -> list[str]:
        for name, expected in self.join.source.where:
            if text(resolve(record, name)) != expected:
                return []
        value = evaluate(self.join.source.key, record)
        values = value if isinstance(value, list) else [value]
        keys = (text(v) for v in values)
        return [f"{self.join.namespace}:{key}" for key in keys if key is not None]

    def add(self, record: MappingABC[str, object], splunk: MappingABC[str, str] | None = None) -> None:
        keys = self.keys_of_source(record)
        if not keys:
            return
        defaults = {**(splunk or {}), "sourcetype": self.source.sourcetype}
        for name in self.join.fill:
            output = self.source.output(name)
            value = text(evaluate(output.expr, record, defaults)) if output is not None else None
            if value is not None:
                for key in keys:
                    self.values.setdefault(key, {}).setdefault(name, set()).add(value)

    def key_of_target(self, record: MappingABC[str, object]) -> str | None:
        key = text(evaluate(self.join.key, record))
        return f"{self.join.namespace}:{key}" if key is not None else None

    def fill(self, normalized: Normalized, record: MappingABC[str, object]) -> None:
        """Fill the join's fields the event lacks (detection events only, as in the SPL)."""
        if normalized.activity is None:
            return
        key = self.key_of_target(record)
        found = self.values.get(key) if key is not None else None
        if not found:
            return
        for name in self.join.fill:
            if normalized.fields.get(name) is None and found.get(name):
                normalized.fields[name] = min(found[name])


def _key(namespace: str, parts: list[Value]) -> str | None:
    texts = [text(p) for p in parts]
    if any(t is None for t in texts):
        return None
    return f"{namespace}:" + "|".join(str(t) for t in texts)


def time_ms(value: object) -> int | None:
    """Epoch milliseconds of a `_time`, as the SPL twin computes them (`round(_time * 1000)`)."""
    try:
        return round(parse_time(value) * 1000)
    except InvalidEvent:
        return None


@dataclass
class AsofIndex:
    """What an as-of join reads from its sources: for each key, the (time in ms, value) pairs.

    SPL keeps `values(ms . "|" . value)` by key (sorted as text: 13-digit millisecond times of
    the years 2001 to 2286 sort as numbers) and takes the last pair not after the event, so the
    latest time wins and, at equal times, the greatest value; `fill()` does the same."""

    join: AsofJoin
    pairs: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def keys_of_source(self, record: MappingABC[str, object]) -> list[str]:
        for name, expected in self.join.where:
            if text(resolve(record, name)) != expected:
                return []
        head = [evaluate(part, record) for part in self.join.source_key[:-1]]
        last = evaluate(self.join.source_key[-1], record)
        values = last if isinstance(last, list) else [last]
        keys = (_key(self.join.namespace, [*head, value]) for value in values if value is not None)
        return sorted({key for key in keys if key is not None})

    def add(self, record: MappingABC[str, object], stamp: object) -> None:
        keys = self.keys_of_source(record)
        value = text(evaluate(self.join.value, record))
        when = time_ms(stamp)
        if not keys or value is None or when is None:
            return
        for key in keys:
            self.pairs.setdefault(key, []).append((when, value))

    def key_of_target(self, record: MappingABC[str, object]) -> str | None:
        return _key(self.join.namespace, [evaluate(part, record) for part in self.join.key])

    def fill(self, normalized: Normalized, record: MappingABC[str, object]) -> None:
        """Set the join's field of a detection event that has a source (the name replaces the
        address it had), and mark it."""
        if normalized.activity is None:
            return
        key = self.key_of_target(record)
        when = time_ms(normalized.fields.get("_time"))
        if key is None or when is None:
            return
        earlier = [pair for pair in self.pairs.get(key, ()) if pair[0] <= when]
        if not earlier:
            return
        normalized.fields[self.join.fill] = max(earlier)[1]
        for name, value in self.join.mark:
            normalized.fields[name] = value
