"""The typed mapping model: one `SourcetypeMapping` per sourcetype, loaded from its YAML file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from ..engine.events import EVENT_FIELDS
from .expr import Expr, Field, is_multivalue, is_reserved

# Fields of the normalized event that the phase-1 interface adds (issue 14: `dest_corroborated`,
# whether a retrieval's host name is corroborated for the address). Listed here too so the
# mappings can give them before the engine reads them; no duplicate once EVENT_FIELDS has them.
INTERFACE_FIELDS: tuple[str, ...] = ("dest_corroborated",)
# The detection contract's fields (CONTRACT section 1) other than `_time`: what a vendor-owned
# sourcetype's props give under `mobile_ingress_<name>` and the correlation searches read back.
CONTRACT_FIELDS: tuple[str, ...] = tuple(name for name in EVENT_FIELDS if name != "_time") + tuple(
    name for name in INTERFACE_FIELDS if name not in EVENT_FIELDS
)
NAMESPACE_PREFIX = "mobile_ingress_"
# The fields of an address lease or sighting (device attribution, normalize/attribution.py): the
# address, the client's MAC (aa:bb:cc:dd:ee:ff) and the lease's seconds. A vendor-owned
# sourcetype's props give them as `mobile_ingress_<name>` too, for the inventory builder.
LEASE_FIELDS: tuple[str, ...] = ("ip", "mac", "lease_time")


class TimeFormat(str, Enum):
    """How the timestamp field is written. The engine reads both (contract `_time`); Splunk
    needs the exact TIME_FORMAT, which the mapping gives for ISO 8601."""

    EPOCH = "epoch"  # Zeek: 1732867200.123456 (TIME_FORMAT %s.%6N)
    ISO8601 = "iso8601"  # EVE: 2026-11-29T08:00:00.123456+0000, EDR: 2026-11-29T08:00:00.123Z


# Splunk's subsecond and zone variables in a TIME_FORMAT
# (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/time-format-variables-and-modifiers/date-and-time-format-variables).
_SUBSECONDS = re.compile(r"%\d*N|%\d*Q")
_ZONE = re.compile(r"%z|%Z|%:z|%Ez")


class FieldClass(str, Enum):
    """How Splunk gets an output field, and so which props.conf setting renders it."""

    EXTRACTION = "extraction"  # KV_MODE=json already names it so
    ALIAS = "alias"  # FIELDALIAS
    EVAL = "eval"  # EVAL (calculated field)


class MappingError(Exception):
    """A mapping file that cannot be used: the message names the file and the key."""


@dataclass(frozen=True)
class Timestamp:
    field: str
    format: TimeFormat
    time_format: str  # props.conf TIME_FORMAT
    # Further fields, in order, for records without `field` (an MDM record with no time of its
    # own takes its collection time); the first one present gives the time.
    fallbacks: tuple[str, ...] = ()
    # Another form the sensor can be told to write (Zeek's JSON::TS_ISO8601 beside its epoch):
    # `--raw` reads both; one TIME_FORMAT cannot, so the docs give the admin its props settings.
    alternative: AlternativeTime | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field, *self.fallbacks)

    @property
    def is_string(self) -> bool:
        return self.format == TimeFormat.ISO8601

    @property
    def reads_subseconds(self) -> bool:
        """Whether props keep the fraction: a TIME_FORMAT without %N reads whole seconds, and
        `--raw` then drops the fraction too, so both give the same `_time`."""
        return self.format == TimeFormat.EPOCH or bool(_SUBSECONDS.search(self.time_format))

    @property
    def reads_zone(self) -> bool:
        """Whether the TIME_FORMAT reads the zone; without one, props set `TZ = UTC` (for sources
        that always write UTC, such as Google's and Microsoft's APIs)."""
        return self.format == TimeFormat.EPOCH or bool(_ZONE.search(self.time_format))


@dataclass(frozen=True)
class AlternativeTime:
    """A second form of the timestamp and the props settings that read it."""

    format: TimeFormat
    time_format: str
    when: str  # which sensor setting writes it


@dataclass(frozen=True)
class Output:
    """One search-time field the mapping produces."""

    name: str
    expr: Expr

    @property
    def field_class(self) -> FieldClass:
        if isinstance(self.expr, Field):
            if self.expr.name == self.name and not is_reserved(self.name):
                return FieldClass.EXTRACTION
            if "{}" not in self.expr.name and not is_reserved(self.expr.name):
                return FieldClass.ALIAS
        return FieldClass.EVAL


@dataclass(frozen=True)
class JoinSource:
    """The events a join reads: a sourcetype, optionally narrowed by `field == value` terms.

    Its key may be multivalue (a bare `{}` field: Zeek http.log's `resp_fuids{}`, the files of
    one request): the event is then a source under each of its values."""

    sourcetype: str
    key: Expr
    where: tuple[tuple[str, str], ...]

    @property
    def multivalue(self) -> bool:
        return is_multivalue(self.key)


@dataclass(frozen=True)
class Join:
    """Fill fields of this mapping's detection events from another event of the same transfer.

    In Splunk this is `mvexpand` of the key then `eventstats values(...) by key` (props cannot join
    events); in Python the same lookup over the other input. The first value in sort order wins
    on both sides."""

    namespace: str
    key: Expr
    source: JoinSource
    fill: tuple[str, ...]


@dataclass(frozen=True)
class AsofJoin:
    """Name a detection event's destination from the latest earlier event of another kind that
    answered for its address (Android's DNS events for its CONNECT events).

    A target (a detection event with every `key` part) gets `fill` from the source (an event
    matching `where`, keyed by `source_key`, whose last part may be multivalue: one key per
    value) with the same key and the latest time at or before its own (ties: the greatest
    `value`), and gets the `mark` constants with it. In Splunk this is `mvexpand` of the key, then
    `eventstats values(time|value) by key` and the latest pair not after the event (macro
    mobile_ingress_asof_join); in Python the same over the inputs given."""

    namespace: str
    key: tuple[Expr, ...]
    where: tuple[tuple[str, str], ...]
    source_key: tuple[Expr, ...]
    value: Expr
    fill: str
    mark: tuple[tuple[str, str], ...]

    @property
    def multivalue(self) -> bool:
        return is_multivalue(self.source_key[-1])


@dataclass(frozen=True)
class CimEventtype:
    """An eventtype with the tags that put its events in a CIM data set."""

    name: str
    data_set: str  # e.g. Network_Traffic.All_Traffic, Endpoint.Filesystem
    tags: tuple[str, ...]
    where: tuple[tuple[str, str], ...]
    gaps: tuple[tuple[str, str], ...]  # (required field, why the source cannot provide it)
    description: str


@dataclass(frozen=True)
class SourcetypeMapping:
    path: str
    sourcetype: str
    title: str
    origin: str
    onboarding: str
    timestamp: Timestamp
    max_event_bytes: int
    outputs: tuple[Output, ...]
    join: Join | None
    cim: tuple[CimEventtype, ...]
    # The add-on that owns this sourcetype's CIM fields (the Splunk Add-on for Zeek, the Suricata
    # add-on): our props then define only `mobile_ingress_*` fields for it, and no eventtypes.
    cim_owner: str | None = None
    asof_join: AsofJoin | None = None

    def output(self, name: str) -> Output | None:
        for output in self.outputs:
            if output.name == name:
                return output
        return None

    @property
    def yields_activity(self) -> bool:
        return self.output("activity") is not None

    @property
    def contract_outputs(self) -> tuple[Output, ...]:
        """The outputs the detection reads (contract fields), in the mapping's order."""
        return tuple(o for o in self.outputs if o.name in CONTRACT_FIELDS)

    @property
    def namespaced_outputs(self) -> tuple[Output, ...]:
        """What a vendor-owned sourcetype's props give as `mobile_ingress_<name>`: the contract
        fields and the lease fields (device attribution), in the mapping's order."""
        return tuple(o for o in self.outputs if o.name in CONTRACT_FIELDS or o.name in LEASE_FIELDS)
