"""The provider-independent loop: page after page, write the page's events, then save the
checkpoint that says they are written. A kill at any moment therefore loses nothing, and a restart
sends again at most the page that was in flight (its events carry source ids).

A stream is one kind of record of one provider (Jamf mobile devices, Intune audit events, ...).
It owns its state (cursor of the sweep in progress, watermarks); the runner owns the order of
writing and saving, the paging checks, malformed pages and the health counters, and what a saved
checkpoint may be trusted for:

- a checkpoint that cannot be read, or is not a state of its stream, is logged as damaged and the
  stream starts from its configured start (never stops collecting until a person deletes it);
- a checkpoint saved for another server (the input's account now points elsewhere) is logged and
  reset: a watermark of one server says nothing about another;
- a page whose records were all read already in this sweep (a server that ignores the page it is
  asked for) ends the sweep before it is written, as a repeated cursor does;
- a run that reaches its time budget or an answer over the size cap stops at its checkpoint."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from .checkpoint import CheckpointStore, State
from .errors import (
    BudgetExhausted,
    CheckpointDamaged,
    HttpStatusError,
    InputError,
    MalformedPage,
    PagingAnomaly,
    RunStopped,
)
from .events import CollectedEvent, EventSink
from .health import RunHealth

# A sweep never follows more pages than this in one run (a server that pages forever with fresh
# cursors is a loop the cursor check cannot see).
MAX_PAGES_PER_RUN = 100_000
# A saved cursor that the server no longer accepts (expired skip token or page token).
STALE_CURSOR_STATUSES = frozenset({400, 404, 410})


@dataclass
class Page:
    events: list[CollectedEvent]
    # Where the next page is, as the stream understands it; None: this was the last page.
    next_cursor: Any
    skipped: int = 0
    # Anything the stream needs when it advances past this page (watermarks, ack ids).
    info: dict[str, Any] = field(default_factory=dict)
    # The source id of every record on the page, written or not (None: the events' ids): what the
    # repeated-page check compares.
    record_ids: list[str] | None = None


class Stream(Protocol):
    name: str
    # False where the same cursor legitimately repeats (a Pub/Sub pull).
    checks_loops: bool
    @property
    def identity(self) -> str:
        """The server (and tenant, enterprise) the stream reads; "" where a checkpoint needs none."""

    def state_problem(self, state: State) -> str | None:
        """Why STATE cannot be this stream's saved state (None: it can)."""

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
    state: State = {}
    try:
        saved = trusted_checkpoint(stream, store, key, counters, logger, context)
        state = stream.begin(saved)
        if stream.identity:
            state["server"] = stream.identity
        resumed = state.get("cursor") is not None and bool(state.get("resumed"))
        seen: set[str] = set()
        read_ids: set[str] = set()
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
            ids = page.record_ids if page.record_ids is not None else [e.source_id for e in page.events]
            if stream.checks_loops and ids and all(i in read_ids for i in ids):
                raise PagingAnomaly(
                    f"the page at {state['cursor']!r} repeats {len(ids)} records this sweep already read "
                    f"(after {pages} pages): the server ignores the page asked for"
                )
            read_ids.update(ids)
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
    except PagingAnomaly as exc:
        counters.paging_loops += 1
        counters.status = "partial"
        counters.error = f"paging stopped: {exc}"
        logger.error(
            "%s: paging stopped: %s; nothing more is read this run, the sweep starts over next run "
            "(watermarks kept)",
            context,
            exc,
        )
        store.save(key, stream.restart(state))
    except RunStopped as exc:
        counters.status = "partial"
        counters.error = str(exc)
        if isinstance(exc, BudgetExhausted):
            health.stopped = "run time budget used up"
        elif not health.stopped:
            health.stopped = "an answer over the size cap"
        logger.warning("%s: %s (the next run resumes at the checkpoint)", context, exc)
    except InputError as exc:
        counters.status = "failed"
        counters.error = str(exc)
        logger.error("%s: %s", context, exc)


def trusted_checkpoint(
    stream: Stream,
    store: CheckpointStore,
    key: str,
    counters: Any,
    logger: logging.Logger,
    context: str,
) -> State | None:
    """The saved state to resume from, or None (the configured start) when there is none, when it
    is damaged (logged, health `checkpoint` and status partial) or when it was saved for another
    server (logged, health `checkpoint`)."""
    try:
        saved = store.load(key)
        problem = None if saved is None else stream.state_problem(saved)
    except CheckpointDamaged as exc:
        saved, problem = None, str(exc)
    if problem is not None:
        counters.checkpoint = f"damaged ({problem}): started from the configured start"
        counters.status = "partial"
        logger.error(
            "%s: checkpoint %s is damaged (%s); collecting from the configured start instead "
            "(the next save replaces it)",
            context,
            key,
            problem,
        )
        return None
    if saved is None:
        return None
    previous = saved.get("server")
    if stream.identity and previous is not None and previous != stream.identity:
        counters.checkpoint = f"reset: saved for {previous}, the input now reads {stream.identity}"
        logger.warning(
            "%s: checkpoint %s was saved for %s, and the input now reads %s; it is reset and "
            "collection starts from the configured start",
            context,
            key,
            previous,
            stream.identity,
        )
        return None
    return saved


def write(sink: EventSink, events: Sequence[CollectedEvent]) -> None:
    if events:
        sink.write(events)
