"""Events as the inputs write them, and the writer interface: splunklib's EventWriter in Splunk
(`modinput.SplunkEventSink`), a list in tests (tests/inputs/stores.py).

Each event is the provider's record unchanged, plus one key, `mobile_ingress`, with where it came
from: `provider`, `kind`, `source_id` (the same record always gets the same id, so a batch sent
again after a kill is recognizable) and `collected_at`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

META_KEY = "mobile_ingress"


@dataclass(frozen=True)
class CollectedEvent:
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
    def write(self, events: Sequence[CollectedEvent]) -> None:
        """Hand the events on; return only once they are written (flushed)."""
