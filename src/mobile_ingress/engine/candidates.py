"""Candidates first, part two: the neighbourhood rule over a stream of items, before correlation.

Every rule looks at most `reach` seconds (`Settings.neighbourhood_reach`: two windows and two skews)
from an *anchor*: a staged file that may be risky and that no allowed path covers for every
retrieval (or that the device then loads in-process: an allowed path never covers that), or an iOS
retrieval of a managed app without an approved role that nothing suppresses (with `--suppressed`,
every risky file and every such retrieval). An event farther than that from every anchor on its
device can matter in three ways only, each kept here:
- as the duplicate of, or the original of, an event with its `event_id` and activity within a
  window (section 1): every event with such a partner is kept, so the correlator sees both;
- as identical content (which shares a time): every event that shares its time with another event
  of its device is kept;
- through the context it sets: context holds until something changes it, so the last setter of
  each context key before a kept event is passed on as a *hint* (a state event with its context
  alone, `Correlator.add_context`); every other event is dropped, never normalized.
An item is decided once every item within `delay` (`Settings.decision_delay`) of it has arrived
(its anchors, its partners, a load that makes a covered file an anchor), so the line holds `delay`
seconds of events; kept items go on, in order, to `Detector.add_event` (the prefilter, then the
correlator). Ascending, the last setter of a key waits until the next kept event of its device
(then goes on before it) or the next setter of the key (then it is dropped); descending, the first
setter after a kept event goes on.
Any order: every item is held to the end, then taken ascending.

Exactness is proven against the whole input correlated (`tests/engine/test_candidates_first.py`).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Optional

from .compact import ANCHOR, COVERED, IN_PROCESS, Context, Item
from .errors import CompactPathError, InvalidEvent, OrderViolation
from .events import IN_PROCESS_LOADS, Event, normalize_record
from .rules import Rules
from .stream import Order

ContextKey = tuple[str, Optional[str]]
# A dropped context setter as it may go on as a hint: time, platform, app, and its context. Flat and
# of plain values only, so the garbage collector stops tracking it (thousands wait at a time).
Setter = tuple[float, str, Optional[str], Optional[str], Optional[bool], Optional[bool]]


class _Device:
    """What the rule remembers of one device."""

    __slots__ = (
        "anchors", "last_item", "last_time", "loads", "locked", "pending", "recent", "risky", "satisfied",
        "state", "wanting",
    )  # fmt: skip

    def __init__(self) -> None:
        self.anchors: list[float] = []  # anchor times, sorted
        self.last_time = math.nan  # of the last item (read without touching the item itself)
        self.last_item: Item | None = None
        self.loads: list[float] = []  # in-process loads (recent)
        self.risky: list[float] = []  # covered risky files (recent), not yet anchors
        # Ascending: the last dropped setter of each key (app_state and recent_user_interaction by
        # app, device_locked), to go on as hints; `pending` says whether any is held.
        self.state: dict[str | None, Setter] = {}
        self.recent: dict[str | None, Setter] = {}
        self.locked: Setter | None = None
        self.pending = False
        self.wanting = False  # descending: a kept event wants the next setter of each key
        self.satisfied: set[ContextKey] = set()


def context_keys(app_id: str | None, context: Context) -> list[ContextKey]:
    state, locked, recent = context
    keys: list[ContextKey] = []
    if state is not None:
        keys.append(("app_state", app_id))
    if locked is not None:
        keys.append(("device_locked", None))
    if recent is not None:
        keys.append(("recent_user_interaction", app_id))
    return keys


class NeighbourhoodGate:
    """Decides which items are correlated (see the module docstring)."""

    def __init__(
        self,
        rules: Rules,
        order: Order,
        with_suppressed: bool,
        keep: Callable[[Event], None],
        hint: Callable[[Event], None],
    ) -> None:
        settings = rules.settings
        self.rules = rules
        self.order = order
        self.with_suppressed = with_suppressed
        self.window = settings.time_window
        self.reach = settings.neighbourhood_reach
        self.delay = settings.decision_delay
        self.descending = order == Order.DESC
        self.newest = math.inf if self.descending else -math.inf
        self.line: deque[Item] = deque()
        self.devices: dict[str, _Device] = {}
        # Items by (device, event id, activity), in two generations a window or more long each:
        # every item within a window of the next one is in one of them (older ones are let go).
        self.ids: dict[tuple[str, str, str], Item] = {}
        self.older_ids: dict[tuple[str, str, str], Item] = {}
        self.generation = -math.inf  # in the order of arrival: when the current generation ends
        self.everything: list[Item] = []  # Order.ANY: held to the end
        self._keep = keep
        self._hint = hint
        self.dropped = 0  # valid events not correlated (never normalized unless read in full)

    # Items ------------------------------------------------------------------------------------

    def item_of(self, event: Event) -> Item:
        """A normalized event as an item, with its part in the rule decided on its full fields."""
        context: Context | None = None
        if event.carries_context():
            context = (event.app_state, event.device_locked, event.recent_user_interaction)
        kind = 0
        rules = self.rules
        if event.activity == "file_create":
            if rules.risk_class(event) is not None:
                if self.with_suppressed or not rules.path_blocks_every_retrieval(event):
                    kind = ANCHOR
                else:
                    kind = COVERED
        elif event.activity == "retrieval":
            if (
                event.platform == "ios"
                and rules.unapproved_role("ios", event.app_id)
                and (self.with_suppressed or rules.retrieval_suppression(event) is None)
            ):
                kind = ANCHOR
        elif event.activity == "load" and event.load_method in IN_PROCESS_LOADS:
            kind = IN_PROCESS
        return Item(
            event.time, event.activity, event.platform, event.device_id, event.app_id, event.event_id,
            context, event, kind,
        )  # fmt: skip

    def admitter(self) -> Callable[[Item], None]:
        """The call that takes the next item (in the order promised)."""
        if self.order == Order.ANY:
            return self.everything.append
        return self._admit

    def push(self, item: Item) -> None:
        self.admitter()(item)

    def finish(self) -> None:
        if self.order == Order.ANY:
            everything, self.everything = self.everything, []
            everything.sort(key=_time_of)  # stable: equal times keep their input order
            for item in everything:
                self._admit(item)
        line = self.line
        while line:
            self._decide(line.popleft())

    # Admission --------------------------------------------------------------------------------

    def _admit(self, item: Item) -> None:
        self.admit_all((item,))

    def admit_all(self, items: Iterable[Item]) -> None:
        """Items in, in the order promised; each decided once `delay` has passed beyond it. The
        loop a fleet's every event goes through: its state is in locals, and the common case (an
        item far from every anchor, dropped) is decided inline."""
        descending = self.descending
        sign = -1.0 if descending else 1.0
        newest = self.newest * sign  # in the order of arrival: ascending keys
        devices = self.devices
        ids = self.ids
        generation = self.generation
        window = self.window
        delay = self.delay
        line = self.line
        mark = self._mark
        dropped = 0
        try:
            for item in items:
                t = item.time
                key = t * sign
                if key < newest:
                    way = "down" if descending else "up"
                    raise OrderViolation(f"event at {t} arrived after events {way} to {newest * sign}")
                newest = key
                device = devices.get(item.device_id)
                if device is None:
                    device = devices[item.device_id] = _Device()
                item.device = device
                if device.last_time == t:  # identical content shares a time: both are kept
                    item.forced = device.last_item.forced = True  # type: ignore[union-attr]
                device.last_time = t
                device.last_item = item
                if item.event_id is not None:
                    if key >= generation:  # the index turns over: ids of two windows ago go
                        self.older_ids, ids = ids, self._fresh_index()
                        self.ids, generation = ids, key + window
                    id_key = (item.device_id, item.event_id, item.activity)
                    partner = ids.get(id_key) or self.older_ids.get(id_key)
                    if partner is not None and abs(t - partner.time) <= window:
                        partner.forced = item.forced = True
                    ids[id_key] = item
                if item.kind:
                    mark(item, device)
                line.append(item)
                limit = key - delay
                head = line[0]
                while head.time * sign < limit:  # the head is final: decide it
                    line.popleft()
                    head_device = head.device
                    anchors = head_device.anchors
                    if head.forced or (anchors and self._near(anchors, head.time)):
                        self._pass_on(head, head_device)
                    else:
                        dropped += 1
                        context = head.context
                        if context is not None:
                            if descending:
                                self._want(head, head_device)
                            else:  # the last setter of each of its keys, for now
                                setter = (head.time, head.platform, head.app_id, *context)
                                if context[0] is not None:
                                    head_device.state[head.app_id] = setter
                                if context[1] is not None:
                                    head_device.locked = setter
                                if context[2] is not None:
                                    head_device.recent[head.app_id] = setter
                                head_device.pending = True
                    head.source = None  # the item may stay referenced (event-id index)
                    head = line[0]
        finally:
            self.newest = newest * sign
            self.generation = generation
            self.dropped += dropped

    def _fresh_index(self) -> dict[tuple[str, str, str], Item]:
        return {}

    def _near(self, anchors: list[float], t: float) -> bool:
        """An anchor within reach of t, an item being decided. Items are decided in order, so the
        anchors out of reach behind it are out of reach of every item still to come: forgotten."""
        reach = self.reach
        if self.descending:
            if anchors[-1] > t + reach:
                del anchors[bisect_right(anchors, t + reach) :]
                if not anchors:
                    return False
            return anchors[-1] >= t - reach
        if anchors[0] < t - reach:
            del anchors[: bisect_left(anchors, t - reach)]
            if not anchors:
                return False
        return anchors[0] <= t + reach

    def _mark(self, item: Item, device: _Device) -> None:
        """An anchor, or a covered file or an in-process load (which together make one)."""
        t, kind, window = item.time, item.kind, self.window
        if kind & ANCHOR:
            item.forced = True  # kept, and it keeps what lies within reach
            insort(device.anchors, t)
        elif kind & COVERED:
            if any(t <= load <= t + window for load in device.loads):
                insort(device.anchors, t)
            else:
                _recent(device.risky, t, window).append(t)
        if kind & IN_PROCESS:
            _recent(device.loads, t, window).append(t)
            for staged in device.risky:
                if t - window <= staged <= t:
                    insort(device.anchors, staged)

    # Decision ---------------------------------------------------------------------------------

    def _decide(self, item: Item) -> None:
        """The last items, once the input has ended (as the loop of `admit_all` decides them)."""
        device = item.device
        anchors = device.anchors
        if item.forced or (anchors and self._near(anchors, item.time)):
            self._pass_on(item, device)
        else:
            self.dropped += 1
            context = item.context
            if context is not None:
                if self.descending:
                    self._want(item, device)
                else:
                    setter = (item.time, item.platform, item.app_id, *context)
                    if context[0] is not None:
                        device.state[item.app_id] = setter
                    if context[1] is not None:
                        device.locked = setter
                    if context[2] is not None:
                        device.recent[item.app_id] = setter
                    device.pending = True
        item.source = None

    def _pass_on(self, item: Item, device: _Device) -> None:
        if device.pending:  # ascending: the last setters before this kept event go on first
            setters = {*device.state.values(), *device.recent.values()}
            if device.locked is not None:
                setters.add(device.locked)
            for setter in sorted(setters, key=_first):
                self._hint(_hint_event(item.device_id, setter))
            device.state, device.recent, device.locked, device.pending = {}, {}, None, False
        source = item.source
        if isinstance(source, str):  # a reader's line, parsed again (it read it plainly once)
            source = json.loads(source)
        self._keep(source if isinstance(source, Event) else self._normalize(source))
        if self.descending:
            device.wanting = True
            device.satisfied = set()

    def _want(self, item: Item, device: _Device) -> None:
        """Descending: the first setter of each key after a kept event goes on as a hint."""
        if device.wanting:
            keys = context_keys(item.app_id, item.context)  # type: ignore[arg-type]
            if any(key not in device.satisfied for key in keys):
                self._hint(
                    _hint_event(item.device_id, (item.time, item.platform, item.app_id, *item.context))  # type: ignore[misc]
                )
                device.satisfied.update(keys)

    def _normalize(self, record: Mapping[str, object] | None) -> Event:
        assert record is not None
        try:
            event, warnings = normalize_record(record, self.rules.lookups)
        except InvalidEvent as exc:
            raise CompactPathError(
                f"a record read as clean was skipped on normalization: {exc.message}"
            ) from exc
        if warnings:
            raise CompactPathError(f"a record read as clean warned on normalization: {warnings[0]}")
        return event


def _recent(times: list[float], t: float, window: float) -> list[float]:
    """The list without times farther than a window from t (they can pair with nothing to come)."""
    if len(times) > 16:
        times[:] = [x for x in times if abs(x - t) <= window + 1.0]
    return times


def _time_of(item: Item) -> float:
    return item.time


def _first(setter: Setter) -> float:
    return setter[0]


def _hint_event(device_id: str, setter: Setter) -> Event:
    """A state event with the context of SETTER alone."""
    time, platform, app_id, state, locked, recent = setter
    event = Event(time, "state", platform, device_id)
    event.app_id = app_id
    event.app_state = state
    event.device_locked = locked
    event.recent_user_interaction = recent
    return event
