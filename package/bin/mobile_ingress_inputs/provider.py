"""What every provider's streams share: the run context (client, tokens, clock, logger) and the
sweep bookkeeping (new sweep or resumed, completion, restart) on top of which each stream only
says how to fetch a page and what its records' ids and times are."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

from . import timeutil
from .auth import BearerAuth
from .checkpoint import State
from .events import CollectedEvent, with_meta
from .health import RunHealth
from .httpclient import HttpClient, Response
from .redact import Redactor
from .runner import Page


@dataclass
class RunContext:
    client: HttpClient
    redactor: Redactor
    logger: logging.Logger
    health: RunHealth
    page_size: int = 100
    clock: Callable[[], float] = time.time
    # Per-run cache of tokens (one BearerAuth per account and scope).
    auths: dict[str, BearerAuth] = field(default_factory=dict)

    def now_iso(self) -> str:
        return timeutil.iso(self.clock())


class SweepStream:
    """A stream that pages through a collection from a first cursor to the last page.

    State keys: `cursor` (where the sweep in progress is), `sweep` (when it started, also in every
    event's metadata so two snapshots of one record are told apart), `last_sweep`; subclasses add
    their own and list the sweep-only ones in SWEEP_KEYS."""

    name = ""
    provider = ""
    kind = ""
    sourcetype = ""
    checks_loops = True
    SWEEP_KEYS: tuple[str, ...] = ()
    # State keys that hold numbers (epoch seconds, counts) or None.
    NUMERIC_KEYS: tuple[str, ...] = ()
    # Keys every provider's `mobile_ingress` metadata gets besides the common ones.
    META: ClassVar[dict[str, str]] = {}

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    @property
    def identity(self) -> str:
        """The server (and tenant or enterprise) this stream reads: a checkpoint saved for another
        one is reset (runner.trusted_checkpoint)."""
        return ""

    def state_problem(self, state: State) -> str | None:
        """Why STATE cannot be a saved state of this stream, or None."""
        if not isinstance(state, Mapping):
            return f"not a JSON object but {type(state).__name__}"
        for key in ("sweep", "last_sweep", "server"):
            if state.get(key) is not None and not isinstance(state[key], str):
                return f"`{key}` is {state[key]!r}, not a string"
        for key in self.NUMERIC_KEYS:
            value = state.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                return f"`{key}` is {value!r}, not a number"
        cursor = state.get("cursor")
        return None if cursor is None else self.cursor_problem(cursor)

    def cursor_problem(self, cursor: Any) -> str | None:
        """Why CURSOR cannot be a cursor of this stream, or None."""
        return None

    # -- to override ------------------------------------------------------------------------------
    def first_cursor(self, state: State) -> Any:
        raise NotImplementedError

    def fetch(self, state: State) -> Page:
        raise NotImplementedError

    def on_page(self, state: State, page: Page) -> None:
        """Update sweep bookkeeping in STATE for PAGE (written)."""

    def on_complete(self, state: State) -> None:
        """Move what the finished sweep learned into the lasting state (watermarks)."""

    # -- the Stream protocol ----------------------------------------------------------------------
    def begin(self, saved: State | None) -> State:
        state = dict(saved or {})
        if state.get("cursor") is not None:
            state["resumed"] = True
            self.ctx.logger.info(
                "%s %s: resuming the sweep started %s at %r",
                self.ctx.health.input,
                self.name,
                state.get("sweep"),
                state["cursor"],
            )
            return state
        state["sweep"] = self.ctx.now_iso()
        state["cursor"] = self.first_cursor(state)
        return state

    def advance(self, state: State, page: Page) -> State:
        state = dict(state)
        state["cursor"] = page.next_cursor
        self.on_page(state, page)
        return state

    def complete(self, state: State) -> State:
        state = dict(state)
        self.on_complete(state)
        state["last_sweep"] = state.get("sweep")
        for key in ("cursor", "sweep", *self.SWEEP_KEYS):
            state.pop(key, None)
        return state

    def restart(self, state: State) -> State:
        state = dict(state)
        for key in ("cursor", "sweep", "resumed", *self.SWEEP_KEYS):
            state.pop(key, None)
        return state

    # -- helpers ----------------------------------------------------------------------------------
    def context(self, detail: str = "") -> str:
        base = f"{self.provider} {self.ctx.health.input} {self.name}"
        return f"{base} {detail}" if detail else base

    def events(
        self,
        records: Iterable[Any],
        state: State,
        *,
        source_id: Callable[[Mapping[str, Any]], str | None],
        time_of: Callable[[Mapping[str, Any]], Any],
        where: str,
        keep: Callable[[Mapping[str, Any]], bool] = lambda record: True,
    ) -> tuple[list[CollectedEvent], int]:
        """Events of RECORDS (each must be an object with an id); a bad record is logged with its
        position and skipped, never losing the others."""
        out: list[CollectedEvent] = []
        skipped = 0
        collected = self.ctx.now_iso()
        for position, record in enumerate(records):
            if not isinstance(record, Mapping):
                skipped += 1
                self.ctx.logger.warning(
                    "%s: record %d of %s is not a JSON object; skipped", self.context(), position, where
                )
                continue
            ident = source_id(record)
            if not ident:
                skipped += 1
                self.ctx.logger.warning(
                    "%s: record %d of %s has no id; skipped", self.context(), position, where
                )
                continue
            if not keep(record):
                continue
            when = timeutil.parse(time_of(record))
            data = with_meta(record, self.provider, self.kind, ident, collected)
            if state.get("sweep"):
                data["mobile_ingress"]["sweep"] = state["sweep"]
            data["mobile_ingress"].update(self.META)
            stamp = when if when is not None else self.ctx.clock()
            out.append(CollectedEvent(data, self.sourcetype, stamp, ident))
        return out, skipped


def record_ids(records: Iterable[Any], source_id: Callable[[Mapping[str, Any]], str | None]) -> list[str]:
    """The source ids of a page's records, kept or not (the runner's repeated-page check)."""
    return [i for i in (source_id(r) for r in records if isinstance(r, Mapping)) if i]


def json_object(response: Response, context: str, list_key: str) -> tuple[dict[str, Any], list[Any]]:
    """The page as a JSON object with a list under LIST_KEY (absent = empty, as Google omits it)."""
    from .errors import MalformedPage

    data = response.json(context)
    if not isinstance(data, dict):
        raise MalformedPage(f"{context}: expected a JSON object, got {type(data).__name__}")
    items = data.get(list_key, [])
    if not isinstance(items, list):
        raise MalformedPage(f"{context}: `{list_key}` is not a list")
    return data, items
