"""Small app folders and events for the executor's own tests."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tests.executor import IndexedEvent, Splunk

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z

JSON_PROPS = {
    "KV_MODE": "json",
    "TIME_PREFIX": r'"ts"\s*:\s*',
    "TIME_FORMAT": "%s.%6N",
    "MAX_TIMESTAMP_LOOKAHEAD": "40",
}


def write_conf(path: Path, stanzas: Mapping[str, Mapping[str, str]]) -> None:
    lines = []
    for name, stanza in stanzas.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {value}" for key, value in stanza.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def make_app(
    root: Path,
    *,
    props: Mapping[str, Mapping[str, str]] | None = None,
    transforms: Mapping[str, Mapping[str, str]] | None = None,
    macros: Mapping[str, Mapping[str, str]] | None = None,
    collections: Mapping[str, Mapping[str, str]] | None = None,
    eventtypes: Mapping[str, Mapping[str, str]] | None = None,
    tags: Mapping[str, Mapping[str, str]] | None = None,
    commands: Mapping[str, Mapping[str, str]] | None = None,
    savedsearches: Mapping[str, Mapping[str, str]] | None = None,
    lookups: Mapping[str, list[dict[str, str]]] | None = None,
    bin_files: Mapping[str, str] | None = None,
) -> Path:
    app = root / "test_app"
    (app / "default").mkdir(parents=True)
    (app / "lookups").mkdir()
    (app / "bin").mkdir()
    write_conf(app / "default" / "app.conf", {"package": {"id": "test_app"}})
    confs = {
        "props.conf": {"json:test": JSON_PROPS, **(props or {})},
        "transforms.conf": transforms or {},
        "macros.conf": macros or {},
        "collections.conf": collections or {},
        "eventtypes.conf": eventtypes or {},
        "tags.conf": tags or {},
        "commands.conf": commands or {},
        "savedsearches.conf": savedsearches or {},
    }
    for name, stanzas in confs.items():
        write_conf(app / "default" / name, stanzas)
    for name, rows in (lookups or {}).items():
        with (app / "lookups" / name).open("w", encoding="utf-8", newline="") as handle:
            columns: list[str] = []
            for row in rows:
                columns.extend(k for k in row if k not in columns)
            writer = csv.DictWriter(handle, columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    for name, code in (bin_files or {}).items():
        (app / "bin" / name).write_text(code, encoding="utf-8")
    return app


def json_event(
    ts: float,
    index: str = "main",
    sourcetype: str = "json:test",
    lag: float = 1.0,
    source: str = "test.log",
    host: str = "h1",
    **fields: Any,
) -> IndexedEvent:
    """A JSON event with `ts` first (as Zeek writes it), indexed `lag` seconds later."""
    raw = json.dumps({"ts": float(f"{ts:.6f}"), **fields})
    return IndexedEvent(
        index=index, sourcetype=sourcetype, source=source, host=host, raw=raw, indextime=ts + lag
    )


def splunk_with(root: Path, events: Iterable[IndexedEvent] = (), seed: int = 0, **app: Any) -> Splunk:
    sp = Splunk(make_app(root, **app), seed=seed)
    sp.add_events(events)
    return sp


def rows_of(sp: Splunk, spl: str, now: float = T0 + 3600, **kwargs: Any) -> list[dict[str, Any]]:
    return sp.search(spl, now=now, **kwargs).rows
