"""The typed mapping model: one `Mapping` per sourcetype, loaded from its YAML file."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..engine.events import EVENT_FIELDS
from .expr import Expr, Field, is_multivalue, is_reserved

# The detection contract's fields (CONTRACT section 1) other than `_time`: what a vendor-owned
# sourcetype's props give under `mobile_ingress_<name>` and the correlation searches read back.
CONTRACT_FIELDS: tuple[str, ...] = tuple(name for name in EVENT_FIELDS if name != "_time")
NAMESPACE_PREFIX = "mobile_ingress_"


class TimeFormat(str, Enum):
    """How the timestamp field is written. The engine reads both (contract `_time`); Splunk
    needs the exact TIME_FORMAT, which the mapping gives for ISO 8601."""

    EPOCH = "epoch"  # Zeek: 1732867200.123456 (TIME_FORMAT %s.%6N)
    ISO8601 = "iso8601"  # EVE: 2026-11-29T08:00:00.123456+0000, EDR: 2026-11-29T08:00:00.123Z


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

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field, *self.fallbacks)

    @property
    def is_string(self) -> bool:
        return self.format == TimeFormat.ISO8601


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
class CimEventtype:
    """An eventtype with the tags that put its events in a CIM data set."""

    name: str
    data_set: str  # e.g. Network_Traffic.All_Traffic, Endpoint.Filesystem
    tags: tuple[str, ...]
    where: tuple[tuple[str, str], ...]
    gaps: tuple[tuple[str, str], ...]  # (required field, why the source cannot provide it)
    description: str


@dataclass(frozen=True)
class Mapping:
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
