"""Where each stream remembers how far it got: a small interface, implemented in Splunk by the KV
store (`splunkd.KVStoreCheckpoints`) and in tests by tests/inputs/stores.py.

A state is a JSON object owned by its stream (cursor of the sweep in progress, watermarks). The
runner saves it only after the events it covers are written."""

from __future__ import annotations

import re
from typing import Any, Protocol

State = dict[str, Any]


class CheckpointStore(Protocol):
    def load(self, key: str) -> State | None: ...

    def save(self, key: str, state: State) -> None: ...


_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def safe_key(key: str) -> str:
    """A key usable as a file name and a KV store `_key` (no `/`, no spaces)."""
    return _SAFE.sub("_", key)
