"""Events as the inputs write them, and the writer interface: splunklib's EventWriter in Splunk
(`modinput.SplunkEventSink`), a list or an NDJSON file in tests.

Each event is the provider's record unchanged, plus one key, `mobile_ingress`, with where it came
from: `provider`, `kind`, `source_id` (the same record always gets the same id, so a batch sent
again after a kill is recognizable) and `collected_at`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

META_KEY = "mobile_ingress"


@dataclass(frozen=True)
class Event:
    data: Mapping[str, Any]
    sourcetype: str
    time: float
    source_id: str

    def text(self) -> str:
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))


def with_meta(
    record: Mapping[str, Any], provider: str, kind: str, source_id: str, collected_at: str
) -> dict[str, Any]:
    data = dict(record)
    data[META_KEY] = {
        "provider": provider,
        "kind": kind,
        "source_id": source_id,
        "collected_at": collected_at,
    }
    return data


class EventSink(Protocol):
    def write(self, events: Sequence[Event]) -> None:
        """Hand the events on; return only once they are written (flushed)."""


class ListSink:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.batches: list[list[Event]] = []

    def write(self, events: Sequence[Event]) -> None:
        self.events.extend(events)
        self.batches.append(list(events))


class NdjsonFileSink:
    """Appends one JSON line per event ({sourcetype, time, event}) and fsyncs each batch."""

    def __init__(self, path: str) -> None:
        self.path = path

    def write(self, events: Sequence[Event]) -> None:
        if not events:
            return
        lines = "".join(
            json.dumps({"sourcetype": e.sourcetype, "time": e.time, "event": e.data}, separators=(",", ":"))
            + "\n"
            for e in events
        )
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(lines)
            out.flush()
            os.fsync(out.fileno())
