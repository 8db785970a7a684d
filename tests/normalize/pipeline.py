"""Raw events through both paths, for the equivalence tests: Splunk's (the rendered props, modelled
by spl.py, then the rendered `mobile_ingress_normalize` macro, modelled by spl_search.py) and
Python's (`mobile-ingress detect --raw`: cli/raw.RawInputs, mapping then join).

Both give, for each raw event that is a detection event, its contract fields (as text), keyed by
`SOURCETYPE:N`: the event's line N among the events of its sourcetype."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from pathlib import Path

from mobile_ingress.cli.raw import RawInputs
from mobile_ingress.engine.timeparse import parse_time
from mobile_ingress.normalize import Normalized
from mobile_ingress.normalize import render as r
from mobile_ingress.normalize.executor import props_time
from mobile_ingress.normalize.expr import resolve
from mobile_ingress.normalize.model import CONTRACT_FIELDS
from tests.splunk.test_knowledge_objects import read_conf

from . import spl, spl_search
from .support import DEFAULT, mappings

HOST = "sensor-1.example.net"
SERIAL = "test_serial"  # kept by the macros: they drop mobile_ingress_join* only

Events = Iterable[tuple[str, dict[str, object]]]


def props() -> dict[str, dict[str, str]]:
    return read_conf(DEFAULT / "props.conf")


def macros(path: Path = DEFAULT / "macros.conf") -> dict[str, str]:
    return {name: stanza["definition"] for name, stanza in read_conf(path).items() if "definition" in stanza}


def comparable(value: object) -> object:
    """One form for both sides: text, a one-value list as its value, absent as None."""
    text = spl.as_text(value)
    if isinstance(text, list):
        return text[0] if len(text) == 1 else text
    return text


def serials(events: Events) -> list[tuple[str, str, dict[str, object]]]:
    counts: dict[str, int] = {}
    out = []
    for sourcetype, record in events:
        counts[sourcetype] = counts.get(sourcetype, 0) + 1
        out.append((f"{sourcetype}:{counts[sourcetype]}", sourcetype, record))
    return out


def props_rows(events: Events, stanzas: Mapping[str, dict[str, str]] | None = None) -> list[spl_search.Row]:
    """Each event as the base search returns it: the props stanza of its sourcetype applied."""
    stanzas = stanzas if stanzas is not None else props()
    rows = []
    for serial, sourcetype, record in serials(events):
        row = spl_search.row_of(spl.run_stanza(stanzas[sourcetype], record, HOST, sourcetype))
        row[SERIAL] = [serial]
        row["_time"] = [spl.as_text(event_time(sourcetype, record))]  # type: ignore[list-item]
        rows.append(row)
    return rows


def event_time(sourcetype: str, record: Mapping[str, object]) -> float:
    """`_time` as the props' TIME_FORMAT gives it (modelled by the Python twin, props_time; the
    executor tests check the real TIME_FORMAT)."""
    stamp = mappings()[sourcetype].timestamp
    value = next(v for v in (resolve(record, name) for name in stamp.fields) if v is not None)
    return parse_time(props_time(value, stamp))


def splunk(
    events: Events,
    stanzas: Mapping[str, dict[str, str]] | None = None,
    definitions: Mapping[str, str] | None = None,
) -> dict[str, dict[str, object]]:
    """The detection events after props and `mobile_ingress_normalize`: contract fields by serial."""
    rows = spl_search.run(f"`{r.NORMALIZE_MACRO}`", props_rows(events, stanzas), definitions or macros())
    out = {}
    for row in rows:
        serial = row[SERIAL][0]
        assert serial not in out, f"{serial}: the search returned it twice"
        out[serial] = {name: comparable(row.get(name)) for name in CONTRACT_FIELDS}
    return out


def python(events: Events, folder: Path) -> dict[str, dict[str, object]]:
    """The detection events `detect --raw` hands the detector (before validation), by serial."""
    by_sourcetype: dict[str, list[str]] = {}
    for _, sourcetype, record in serials(events):
        by_sourcetype.setdefault(sourcetype, []).append(json.dumps(record))
    specs = []
    for sourcetype, lines in by_sourcetype.items():
        path = folder / (sourcetype.replace(":", "_") + ".json")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        specs.append(f"{sourcetype}={path}")
    out = {}
    with ExitStack() as stack:
        raw = RawInputs.open(specs, stack)
        raw.host = HOST
        for item in raw.inputs:
            for number, result in raw.normalized(item):
                if isinstance(result, Normalized) and result.activity is not None:
                    serial = f"{item.mapping.sourcetype}:{number}"
                    out[serial] = {name: comparable(result.fields.get(name)) for name in CONTRACT_FIELDS}
    return out
