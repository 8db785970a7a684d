"""Test-side implementations of the inputs' store and sink interfaces (the app ships only the
KV store checkpoints and splunklib's event writer): checkpoints in memory or in files (the local
runner of the kill test), events in a list."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence

from mobile_ingress_inputs.checkpoint import State, safe_key
from mobile_ingress_inputs.errors import CheckpointDamaged
from mobile_ingress_inputs.events import CollectedEvent


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


class ListSink:
    def __init__(self) -> None:
        self.events: list[CollectedEvent] = []
        self.batches: list[list[CollectedEvent]] = []

    def write(self, events: Sequence[CollectedEvent]) -> None:
        self.events.extend(events)
        self.batches.append(list(events))
