"""The provider-independent loop: page after page, write the page's events, then save the
checkpoint that says they are written. A kill at any moment therefore loses nothing, and a restart
sends again at most the page that was in flight (its events carry source ids).

A stream is one kind of record of one provider (Jamf mobile devices, Intune audit events, ...).
It owns its state (cursor of the sweep in progress, watermarks); the runner owns the order of
writing and saving, the paging-loop check, malformed pages and the health counters."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from .checkpoint import CheckpointStore, State
from .errors import HttpStatusError, InputError, MalformedPage
from .events import Event, EventSink
from .health import RunHealth

# A sweep never follows more pages than this in one run (a server that pages forever with fresh
# cursors is a loop the cursor check cannot see).
MAX_PAGES_PER_RUN = 100_000
# A saved cursor that the server no longer accepts (expired skip token or page token).
STALE_CURSOR_STATUSES = frozenset({400, 404, 410})


@dataclass
class Page:
    events: list[Event]
    # Where the next page is, as the stream understands it; None: this was the last page.
    next_cursor: Any
    skipped: int = 0
    # Anything the stream needs when it advances past this page (watermarks, ack ids).
    info: dict[str, Any] = field(default_factory=dict)


class Stream(Protocol):
    name: str
    # False where the same cursor legitimately repeats (a Pub/Sub pull).
    checks_loops: bool

    def begin(self, saved: State | None) -> State:
        """The state to run from: a saved cursor resumes its sweep, else a new sweep starts."""

    def fetch(self, state: State) -> Page: ...

    def advance(self, state: State, page: Page) -> State:
        """The state once PAGE's events are written (its `cursor` is PAGE's next cursor)."""

    def complete(self, state: State) -> State:
        """The state once the sweep has reached its last page."""

    def restart(self, state: State) -> State:
        """The state without a cursor, watermarks kept (next run starts the sweep again)."""


def _cursor_id(cursor: Any) -> str:
    return json.dumps(cursor, sort_keys=True)


def run_stream(
    stream: Stream,
    store: CheckpointStore,
    sink: EventSink,
    health: RunHealth,
    logger: logging.Logger,
    key: str,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Run STREAM from its checkpoint KEY to the end of its sweep. Errors stop this stream only;
    they are logged with their context and counted in HEALTH."""
    counters = health.stream(stream.name)
    context = f"{health.provider} {health.input} {stream.name}"
    try:
        state = stream.begin(store.load(key))
        resumed = state.get("cursor") is not None and bool(state.get("resumed"))
        seen: set[str] = set()
        pages = 0
        while state.get("cursor") is not None:
            if should_stop():
                logger.info("%s: stopping at the checkpoint (Splunk is shutting the input down)", context)
                return
            seen.add(_cursor_id(state["cursor"]))
            try:
                page = stream.fetch(state)
            except MalformedPage as exc:
                counters.malformed_pages += 1
                counters.status = "partial"
                counters.error = str(exc)
                logger.error(
                    "%s: malformed page skipped; the checkpoint stays at it and the next run retries it: %s",
                    context,
                    exc,
                )
                return
            except HttpStatusError as exc:
                if resumed and pages == 0 and exc.status in STALE_CURSOR_STATUSES:
                    logger.warning(
                        "%s: the saved cursor is no longer accepted (%s); starting the sweep again",
                        context,
                        exc,
                    )
                    state = stream.begin(stream.restart(state))
                    store.save(key, state)
                    resumed = False
                    seen.clear()
                    continue
                raise
            write(sink, page.events)
            counters.pages += 1
            counters.records += len(page.events)
            counters.skipped_records += page.skipped
            for event in page.events:
                if counters.newest is None or event.time > counters.newest:
                    counters.newest = event.time
            pages += 1
            state = stream.advance(state, page)
            state.pop("resumed", None)
            following = state.get("cursor")
            if following is not None and stream.checks_loops and _cursor_id(following) in seen:
                counters.paging_loops += 1
                counters.status = "partial"
                counters.error = f"paging loop at {following!r}"
                logger.error(
                    "%s: paging loop: the server sent again the cursor %r after %d pages; the sweep "
                    "ends here and starts over next run (watermarks kept)",
                    context,
                    following,
                    pages,
                )
                store.save(key, stream.restart(state))
                return
            if following is not None and pages >= MAX_PAGES_PER_RUN:
                logger.warning("%s: %d pages in one run; the rest waits for the next run", context, pages)
                store.save(key, state)
                return
            if following is None:
                state = stream.complete(state)
            store.save(key, state)
    except InputError as exc:
        counters.status = "failed"
        counters.error = str(exc)
        logger.error("%s: %s", context, exc)


def write(sink: EventSink, events: Sequence[Event]) -> None:
    if events:
        sink.write(events)
