"""What a search sees of each event: index-time timestamp and truncation, then search-time
extraction, from the app's props.conf, eventtypes.conf and tags.conf.

Index time (props.conf.spec): `TRUNCATE` (bytes, rounded down to a whole character),
`TIME_PREFIX` (timestamp looked for only after its first match; no match: no extraction),
`MAX_TIMESTAMP_LOOKAHEAD` (characters after the prefix), `TIME_FORMAT` (strptime with Splunk's
variables, see timeutil), `TZ` (only UTC is modelled). No timestamp found: the previous event's
time from the same source, else the index time (Getting Data In, "How timestamp assignment
works"). Events arrive already broken (LINE_BREAKER/SHOULD_LINEMERGE are accepted, not applied).

Search time, in Splunk's documented order (Knowledge Manager Manual, "The sequence of search-time
operations"): automatic key-value extraction (`KV_MODE = json` with the limits of jsonflat), then
`FIELDALIAS-` (against the extracted fields; AS replaces and removes the alias when the source
is missing, ASNEW keeps an existing one), then `EVAL-` (all evaluated against the fields as they
are after the aliases, "as if they are run in parallel"; a null result removes the field), then
event types and tags. Default fields (`_raw`, `_time`, `_indextime`, `index`, `sourcetype`,
`source`, `host`, `linecount`, `splunk_server`) are not overwritten by extraction.
Keys outside this model are refused by name when the app is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import jsonflat, searchexpr
from .errors import UnsupportedSpl
from .evalexpr import EvalContext, compile_expression, functions_used
from .limits import Limits
from .timeutil import format_time, strptime_prefix
from .values import to_field

INDEX_TIME_KEYS = frozenset(
    {
        "SHOULD_LINEMERGE",
        "LINE_BREAKER",
        "TRUNCATE",
        "TIME_PREFIX",
        "TIME_FORMAT",
        "MAX_TIMESTAMP_LOOKAHEAD",
        "TZ",
    }
)
IGNORED_KEYS = frozenset({"description", "category", "pulldown_type", "ANNOTATE_PUNCT"})
SEARCH_TIME_KEYS = frozenset({"KV_MODE"})
DEFAULT_FIELDS = (
    "_raw",
    "_time",
    "_indextime",
    "index",
    "sourcetype",
    "source",
    "host",
    "linecount",
    "splunk_server",
)
SPLUNK_SERVER = "splunk-executor"


@dataclass
class IndexedEvent:
    """An event as it reaches the indexer. `time` stands for Splunk's automatic timestamp
    recognition, used only when the sourcetype's props give no TIME_FORMAT; with `given_time` it
    is the time the input itself handed splunkd (a modular input's `<time>` element in its XML
    stream), which Splunk uses as the event's time without extracting one from the text
    (https://docs.splunk.com/Documentation/Splunk/latest/AdvancedDev/ModInputsStream)."""

    index: str
    sourcetype: str
    source: str
    host: str
    raw: str
    indextime: float
    time: float | None = None
    given_time: bool = False


@dataclass
class StoredEvent:
    serial: int
    index: str
    sourcetype: str
    source: str
    host: str
    raw: str
    time: float
    indextime: float
    fields: dict[str, Any] | None = field(default=None, repr=False)


def _validate_stanza(name: str, stanza: Mapping[str, str]) -> None:
    for key, value in stanza.items():
        if key in INDEX_TIME_KEYS or key in IGNORED_KEYS or key in SEARCH_TIME_KEYS:
            if key == "KV_MODE" and value.strip().lower() not in ("json", "none"):
                raise UnsupportedSpl(f"props.conf [{name}] KV_MODE = {value}")
            if key == "TZ" and value.strip().upper() not in ("UTC", "GMT", "ETC/UTC"):
                raise UnsupportedSpl(f"props.conf [{name}] TZ = {value} (only UTC is modelled)")
            continue
        if key.startswith(("FIELDALIAS-", "EVAL-")):
            continue
        raise UnsupportedSpl(f"props.conf [{name}] {key}")
    if name.startswith(("source::", "host::", "rule::", "delayedrule::")) or "*" in name:
        raise UnsupportedSpl(f"props.conf stanza [{name}] (only exact sourcetype stanzas are modelled)")


_ALIAS = re.compile(r"(\S+)\s+(AS|ASNEW)\s+(\S+)", re.IGNORECASE)


@dataclass
class _Compiled:
    kv_json: bool
    aliases: list[tuple[str, str, bool]]  # (source, target, asnew)
    evals: list[tuple[str, Any]]
    time_prefix: re.Pattern[str] | None
    time_format: str | None
    lookahead: int
    truncate: int


def _compile_stanza(name: str, stanza: Mapping[str, str]) -> _Compiled:
    _validate_stanza(name, stanza)
    aliases: list[tuple[str, str, bool]] = []
    for key in sorted(k for k in stanza if k.startswith("FIELDALIAS-")):
        text = stanza[key]
        pairs = _ALIAS.findall(text)
        if not pairs or _ALIAS.sub("", text).strip():
            raise UnsupportedSpl(f"props.conf [{name}] {key} = {text}")
        aliases.extend((src, dst, kw.upper() == "ASNEW") for src, kw, dst in pairs)
    evals = []
    for key in sorted(k for k in stanza if k.startswith("EVAL-")):
        expression = compile_expression(stanza[key])
        if functions_used(expression.node) & {"now", "relative_time"}:
            raise UnsupportedSpl(f"props.conf [{name}] {key}: now() in a calculated field")
        evals.append((key[len("EVAL-") :], expression))
    prefix = stanza.get("TIME_PREFIX")
    return _Compiled(
        kv_json=stanza.get("KV_MODE", "").strip().lower() == "json",
        aliases=aliases,
        evals=evals,
        time_prefix=re.compile(prefix) if prefix else None,
        time_format=stanza.get("TIME_FORMAT") or None,
        lookahead=int(stanza.get("MAX_TIMESTAMP_LOOKAHEAD", "128")),
        truncate=int(stanza.get("TRUNCATE", "10000")),
    )


class PropsModel:
    def __init__(
        self,
        props: Mapping[str, Mapping[str, str]],
        eventtypes: Mapping[str, Mapping[str, str]],
        tags: Mapping[str, Mapping[str, str]],
        limits: Limits,
    ) -> None:
        self.limits = limits
        self.stanzas: dict[str, _Compiled] = {}
        for name, stanza in props.items():
            if name == "default":
                continue
            self.stanzas[name] = _compile_stanza(name, stanza)
        self.eventtypes: list[tuple[str, Any]] = []
        for name in sorted(eventtypes):
            search = eventtypes[name].get("search", "")
            if "|" in search or re.search(r"\b(eventtype|tag)\s*=", search):
                raise UnsupportedSpl(f"eventtypes.conf [{name}]: pipes, eventtype= or tag= in its search")
            node, matcher = searchexpr.compile_search(search)
            if searchexpr.time_modifiers(node):
                raise UnsupportedSpl(f"eventtypes.conf [{name}]: time modifiers")
            self.eventtypes.append((name, matcher))
        self.tags: list[tuple[str, str, list[str]]] = []  # (field, value, tags)
        for name, stanza in tags.items():
            field_name, sep, value = name.partition("=")
            if not sep:
                raise UnsupportedSpl(f"tags.conf stanza [{name}]")
            enabled = sorted(t for t, state in stanza.items() if state.strip().lower() == "enabled")
            self.tags.append((field_name, value, enabled))

    def add_stanza(self, name: str, stanza: Mapping[str, str]) -> None:
        self.stanzas[name] = _compile_stanza(name, stanza)

    # ------------------------------------------------------------------------ index time

    def index(self, event: IndexedEvent, serial: int, previous_time: float | None) -> StoredEvent:
        compiled = self.stanzas.get(event.sourcetype)
        raw = event.raw
        truncate = compiled.truncate if compiled else 10000
        data = raw.encode("utf-8")
        if truncate > 0 and len(data) > truncate:
            raw = data[:truncate].decode("utf-8", errors="ignore")
        if event.given_time and event.time is not None:
            when: float | None = event.time
        else:
            when = self.timestamp(compiled, raw) if compiled and compiled.time_format else event.time
        if when is None:
            when = previous_time if previous_time is not None else event.indextime
        return StoredEvent(
            serial,
            event.index,
            event.sourcetype,
            event.source,
            event.host,
            raw,
            float(when),
            float(event.indextime),
        )

    @staticmethod
    def timestamp(compiled: _Compiled, raw: str) -> float | None:
        start = 0
        if compiled.time_prefix is not None:
            match = compiled.time_prefix.search(raw)
            if match is None:
                return None
            start = match.end()
        window = raw[start : start + compiled.lookahead] if compiled.lookahead > 0 else raw[start:]
        assert compiled.time_format is not None
        parsed = strptime_prefix(window, compiled.time_format)
        return None if parsed is None else parsed[0]

    # ------------------------------------------------------------------------ search time

    def fields(self, event: StoredEvent) -> dict[str, Any]:
        """The event's fields (cached on the event; callers must copy before changing them)."""
        if event.fields is None:
            event.fields = self._extract(event)
        return event.fields

    def _extract(self, event: StoredEvent) -> dict[str, Any]:
        compiled = self.stanzas.get(event.sourcetype)
        row: dict[str, Any] = {}
        if compiled is not None and compiled.kv_json:
            extracted = jsonflat.flatten_raw(
                event.raw, self.limits.spath_extraction_cutoff, self.limits.kv_limit
            )
            for name, values in extracted.items():
                row[name] = values[0] if len(values) == 1 else values
        row.update(
            _raw=event.raw,
            _time=format_time(event.time),
            _indextime=format_time(event.indextime),
            index=event.index,
            sourcetype=event.sourcetype,
            source=event.source,
            host=event.host,
            linecount=str(event.raw.count("\n") + 1),
            splunk_server=SPLUNK_SERVER,
        )
        if compiled is not None:
            snapshot = dict(row)
            for source, target, asnew in compiled.aliases:
                if target in DEFAULT_FIELDS:
                    continue
                value = snapshot.get(source)
                if asnew:
                    if value is not None and target not in row:
                        row[target] = value
                elif value is None:
                    row.pop(target, None)
                else:
                    row[target] = value
            if compiled.evals:
                before = dict(row)
                ctx = EvalContext(now=event.indextime)
                results = [(name, to_field(expression(before, ctx))) for name, expression in compiled.evals]
                for name, value in results:
                    if name in DEFAULT_FIELDS:
                        continue
                    if value is None:
                        row.pop(name, None)
                    else:
                        row[name] = value
        eventtypes = [name for name, matcher in self.eventtypes if matcher(row)]
        if eventtypes:
            row["eventtype"] = eventtypes[0] if len(eventtypes) == 1 else eventtypes
        tags: set[str] = set()
        eventtype_tags: set[str] = set()
        for field_name, value, names in self.tags:
            current = row.get(field_name)
            values = current if isinstance(current, list) else [current] if current is not None else []
            if value in values:
                tags.update(names)
                if field_name == "eventtype":
                    eventtype_tags.update(names)
        if tags:
            row["tag"] = _mv(sorted(tags))
        if eventtype_tags:
            row["tag::eventtype"] = _mv(sorted(eventtype_tags))
        return row


def _mv(values: list[str]) -> Any:
    return values[0] if len(values) == 1 else values
