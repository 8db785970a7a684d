"""The provider-independent loop with a scripted stream: write before checkpoint, a failing writer
leaves the checkpoint where it was, paging loops end the sweep, a stale saved cursor restarts it,
and the file checkpoint store survives reopening."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from mobile_ingress_inputs.errors import HttpStatusError
from mobile_ingress_inputs.events import CollectedEvent
from mobile_ingress_inputs.health import RunHealth
from mobile_ingress_inputs.runner import Page, run_stream

from .stores import FileCheckpoints, ListSink, MemoryCheckpoints
from .support import Lines


class Scripted:
    """Pages named by cursor: {cursor: (records, next_cursor)}; raises what ERRORS maps a cursor to."""

    name = "scripted"
    checks_loops = True
    identity = ""

    def __init__(self, pages: dict[int, tuple[list[str], int | None]]) -> None:
        self.pages = pages
        self.errors: dict[int, Exception] = {}
        self.fetched: list[int] = []

    def state_problem(self, state: dict[str, Any]) -> str | None:
        cursor = state.get("cursor")
        return None if cursor is None or isinstance(cursor, int) else f"cursor {cursor!r}"

    def begin(self, saved: dict[str, Any] | None) -> dict[str, Any]:
        state = dict(saved or {})
        if state.get("cursor") is None:
            state["cursor"] = 0
        else:
            state["resumed"] = True
        return state

    def fetch(self, state: dict[str, Any]) -> Page:
        cursor = state["cursor"]
        self.fetched.append(cursor)
        if cursor in self.errors:
            raise self.errors.pop(cursor)
        records, following = self.pages[cursor]
        return Page([CollectedEvent({"id": r}, "st", 1.0, r) for r in records], following)

    def advance(self, state: dict[str, Any], page: Page) -> dict[str, Any]:
        return {**state, "cursor": page.next_cursor}

    def complete(self, state: dict[str, Any]) -> dict[str, Any]:
        return {**state, "cursor": None, "done": state.get("done", 0) + 1}

    def restart(self, state: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in state.items() if k not in ("cursor", "resumed")}


def go(stream: Scripted, store: Any, sink: Any) -> tuple[RunHealth, Lines]:
    lines = Lines()
    logger = logging.getLogger(f"tests.inputs.runner.{id(stream)}.{id(lines)}")
    logger.handlers[:] = [lines]
    logger.propagate = False
    health = RunHealth("p", "i", 0.0)
    run_stream(stream, store, sink, health, logger, "k")
    return health, lines


def test_each_page_is_written_before_its_checkpoint_is_saved() -> None:
    store = MemoryCheckpoints()
    seen_at_write: list[Any] = []

    class Watching(ListSink):
        def write(self, events):  # type: ignore[no-untyped-def]
            seen_at_write.append((store.load("k") or {}).get("cursor"))
            super().write(events)

    stream = Scripted({0: (["a", "b"], 1), 1: (["c"], 2), 2: (["d"], None)})
    go(stream, store, Watching())
    # When page N is written, the checkpoint still points at page N.
    assert seen_at_write == [None, 1, 2]
    assert store.load("k") == {"cursor": None, "done": 1}


def test_a_failing_writer_leaves_the_checkpoint_at_the_unwritten_page() -> None:
    store = MemoryCheckpoints()

    class Failing(ListSink):
        def write(self, events):  # type: ignore[no-untyped-def]
            if events[0].source_id == "c":
                raise BrokenPipeError("splunkd went away")
            super().write(events)

    stream = Scripted({0: (["a", "b"], 1), 1: (["c"], None)})
    with pytest.raises(BrokenPipeError):
        go(stream, store, Failing())
    assert store.load("k")["cursor"] == 1


def test_a_repeated_cursor_is_a_paging_loop_that_ends_the_sweep() -> None:
    store, sink = MemoryCheckpoints(), ListSink()
    stream = Scripted({0: (["a"], 1), 1: (["b"], 0)})
    health, lines = go(stream, store, sink)
    assert [e.source_id for e in sink.events] == ["a", "b"]
    assert stream.fetched == [0, 1]
    assert health.streams["scripted"].paging_loops == 1
    assert "paging loop" in "\n".join(lines.lines)
    assert store.load("k") == {}  # no cursor: the next run starts the sweep again


def test_distinct_cursors_with_new_records_are_not_a_loop() -> None:
    store, sink = MemoryCheckpoints(), ListSink()
    health, _ = go(Scripted({0: (["a"], 1), 1: (["a", "b"], 2), 2: (["c"], None)}), store, sink)
    assert health.streams["scripted"].paging_loops == 0 and len(sink.events) == 4


def test_a_saved_cursor_the_server_no_longer_accepts_restarts_the_sweep() -> None:
    store, sink = MemoryCheckpoints(), ListSink()
    store.save("k", {"cursor": 1})
    stream = Scripted({0: (["a"], 1), 1: (["b"], None)})
    stream.errors[1] = HttpStatusError(400, "expired skip token")
    _, lines = go(stream, store, sink)
    assert stream.fetched == [1, 0, 1]
    assert [e.source_id for e in sink.events] == ["a", "b"]
    assert "no longer accepted" in "\n".join(lines.lines)


def test_a_fresh_cursor_refused_is_an_error_not_a_restart() -> None:
    store, sink = MemoryCheckpoints(), ListSink()
    stream = Scripted({0: (["a"], None)})
    stream.errors[0] = HttpStatusError(400, "bad request")
    health, _ = go(stream, store, sink)
    assert stream.fetched == [0] and health.streams["scripted"].status == "failed"


def test_file_checkpoints_survive_reopening_and_hold_whole_states(tmp_path: Path) -> None:
    state = {"cursor": {"page": 3}, "watermark": 1.5}
    FileCheckpoints(str(tmp_path)).save("jamf.in/put 1.devices", state)
    assert FileCheckpoints(str(tmp_path)).load("jamf.in/put 1.devices") == state
    assert [p.name for p in tmp_path.iterdir()] == ["jamf.in_put_1.devices.json"]
    assert FileCheckpoints(str(tmp_path)).load("other") is None


def test_an_unreadable_checkpoint_file_is_a_clear_error(tmp_path: Path) -> None:
    from mobile_ingress_inputs.errors import InputError

    (tmp_path / "k.json").write_text("{not json")
    with pytest.raises(InputError, match="checkpoint k: unreadable"):
        FileCheckpoints(str(tmp_path)).load("k")
    (tmp_path / "k.json").write_text(json.dumps([1]))
    with pytest.raises(InputError, match="not a JSON object"):
        FileCheckpoints(str(tmp_path)).load("k")


def test_a_damaged_checkpoint_file_is_logged_and_the_stream_starts_from_the_beginning(tmp_path: Path) -> None:
    (tmp_path / "k.json").write_text('{"cursor": 1, "done": ')  # cut short by a full disk
    sink = ListSink()
    stream = Scripted({0: (["a"], 1), 1: (["b"], None)})
    health, lines = go(stream, FileCheckpoints(str(tmp_path)), sink)
    assert [e.source_id for e in sink.events] == ["a", "b"]
    counters = health.streams["scripted"]
    assert counters.status == "partial" and counters.checkpoint.startswith(
        "damaged (checkpoint k: unreadable"
    )
    assert any(line.startswith("ERROR") and "is damaged" in line for line in lines.lines)
    assert FileCheckpoints(str(tmp_path)).load("k") == {"cursor": None, "done": 1}


def test_a_checkpoint_that_is_not_its_streams_state_is_damaged_too() -> None:
    store, sink = MemoryCheckpoints(), ListSink()
    store.save("k", {"cursor": "three"})
    health, _ = go(Scripted({0: (["a"], None)}), store, sink)
    assert len(sink.events) == 1 and health.streams["scripted"].checkpoint == (
        "damaged (cursor 'three'): started from the configured start"
    )


def test_a_checkpoint_saved_for_another_server_is_reset() -> None:
    store, sink = MemoryCheckpoints(), ListSink()
    store.save("k", {"cursor": None, "done": 1, "server": "https://old.example"})
    stream = Scripted({0: (["a"], None)})
    stream.identity = "https://new.example"
    health, lines = go(stream, store, sink)
    assert len(sink.events) == 1 and store.load("k") == {
        "cursor": None,
        "done": 1,
        "server": "https://new.example",
    }
    assert health.streams["scripted"].status == "ok"
    assert "saved for https://old.example, and the input now reads https://new.example" in "\n".join(
        lines.lines
    )


def test_a_page_of_records_already_read_ends_the_sweep_before_it_is_written() -> None:
    store, sink = MemoryCheckpoints(), ListSink()
    # Fresh cursors, the same records: what a server ignoring the page it is asked gives.
    stream = Scripted({n: (["a", "b"], n + 1) for n in range(50)})
    health, _ = go(stream, store, sink)
    assert [e.source_id for e in sink.events] == ["a", "b"] and stream.fetched == [0, 1]
    counters = health.streams["scripted"]
    assert counters.paging_loops == 1 and counters.error.startswith("paging stopped: the page at 1 repeats 2")
    assert store.load("k") == {}  # the sweep starts over next run
