"""Where each stream remembers how far it got: a small interface with a file store (tests, the
local runner) and the KV store one Splunk uses (`splunkd.KVStoreCheckpoints`).

A state is a JSON object owned by its stream (cursor of the sweep in progress, watermarks). The
runner saves it only after the events it covers are written."""

from __future__ import annotations

import json
import os
import re
import tempfile
from typing import Any, Protocol

from .errors import CheckpointDamaged

State = dict[str, Any]


class CheckpointStore(Protocol):
    def load(self, key: str) -> State | None: ...

    def save(self, key: str, state: State) -> None: ...


_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def safe_key(key: str) -> str:
    """A key usable as a file name and a KV store `_key` (no `/`, no spaces)."""
    return _SAFE.sub("_", key)


class MemoryCheckpoints:
    def __init__(self) -> None:
        self.states: dict[str, State] = {}
        self.saves = 0

    def load(self, key: str) -> State | None:
        state = self.states.get(safe_key(key))
        return json.loads(json.dumps(state)) if state is not None else None

    def save(self, key: str, state: State) -> None:
        self.states[safe_key(key)] = json.loads(json.dumps(state))
        self.saves += 1


class FileCheckpoints:
    """One JSON file per key in FOLDER, replaced atomically (write, fsync, rename): a kill leaves
    the old state or the new one, never half of one."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        os.makedirs(folder, exist_ok=True)

    def _path(self, key: str) -> str:
        return os.path.join(self.folder, safe_key(key) + ".json")

    def load(self, key: str) -> State | None:
        try:
            with open(self._path(key), encoding="utf-8") as handle:
                state = json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise CheckpointDamaged(f"checkpoint {key}: unreadable ({exc})") from None
        if not isinstance(state, dict):
            raise CheckpointDamaged(f"checkpoint {key}: not a JSON object")
        return state

    def save(self, key: str, state: State) -> None:
        handle, temp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(state, out, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self._path(key))
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise
