"""The normalized event (contract section 1) and the validation that makes one from a record."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from .errors import InvalidEvent
from .hosts import is_loopback, normalize_host, parse_ip, url_host, url_last_segment
from .lookups import PLATFORMS, InventoryRow, Lookups
from .paths import android_app_from_path, basename, is_shared_storage, normalize_path
from .settings import parse_bool
from .timeparse import _excerpt, parse_number, parse_time


class Activity(str, Enum):
    RETRIEVAL = "retrieval"
    FILE_CREATE = "file_create"
    UNPACK = "unpack"
    LOAD = "load"
    HANDOFF = "handoff"
    STATE = "state"


FILE_ACTIVITIES = frozenset({"file_create", "unpack", "load", "handoff"})
ACTIVITIES = frozenset(a.value for a in Activity)
RETRIEVAL_METHODS = frozenset({"download_manager", "http", "stream", "other"})
LOAD_METHODS = frozenset({"dexclassloader", "loadlibrary", "dlopen", "webview", "install", "other"})
IN_PROCESS_LOADS = frozenset({"dexclassloader", "loadlibrary", "dlopen"})
APP_STATES = frozenset({"foreground", "background"})
# Byte counts and sizes above 2^53 (8 PiB) are no transfer: beyond it a float is no longer an exact
# count, and two of 1.5e308 summed to infinity. Such a value is invalid (a warning, counted as absent).
MAX_BYTES = float(2**53)


class FieldKind(str, Enum):
    """The one type of a normalized field's value (so tuple equality is JSON equality)."""

    TIME = "time"  # epoch seconds, a float
    TEXT = "text"
    NUMBER = "number"  # an int when integral, else a float
    FLAG = "flag"  # a bool

    @property
    def annotation(self) -> str:
        """The type `Event`'s annotation names (an int when integral is annotated `float`)."""
        return {"time": "float", "text": "str", "number": "float", "flag": "bool"}[self.value]


@dataclass(frozen=True)
class FieldSpec:
    """One field of the normalized event (contract section 1)."""

    name: str  # as the contract (and the canonical JSON) names it
    kind: FieldKind
    identity: bool = True  # part of the content identity (all but `event_id`)
    context: bool = False  # context: holds until changed (`app_state` and the two flags)
    app_keyed: bool = False  # context that holds per app (else per device)
    required: bool = False  # every event has it (an Event is made with it)

    @property
    def attribute(self) -> str:
        """The attribute of `Event` that holds it (`_time` is `time`)."""
        return self.name.lstrip("_")


# The fields of the normalized event, `_time` first: the one table of them. The canonical JSON keeps
# these (keys sorted); the search command asks Splunk for these alone; the rest is derived.
FIELD_SPECS: tuple[FieldSpec, ...] = (
    FieldSpec("_time", FieldKind.TIME, required=True),
    FieldSpec("activity", FieldKind.TEXT, required=True),
    FieldSpec("platform", FieldKind.TEXT, required=True),
    FieldSpec("device_id", FieldKind.TEXT, required=True),
    FieldSpec("app_id", FieldKind.TEXT),
    FieldSpec("user", FieldKind.TEXT),
    FieldSpec("event_id", FieldKind.TEXT, identity=False),
    FieldSpec("dest", FieldKind.TEXT),
    FieldSpec("dest_corroborated", FieldKind.FLAG),
    FieldSpec("dest_ip", FieldKind.TEXT),
    FieldSpec("dest_port", FieldKind.NUMBER),
    FieldSpec("url", FieldKind.TEXT),
    FieldSpec("src_ip", FieldKind.TEXT),
    FieldSpec("bytes_in", FieldKind.NUMBER),
    FieldSpec("retrieval_method", FieldKind.TEXT),
    FieldSpec("file_path", FieldKind.TEXT),
    FieldSpec("file_name", FieldKind.TEXT),
    FieldSpec("file_size", FieldKind.NUMBER),
    FieldSpec("file_hash", FieldKind.TEXT),
    FieldSpec("file_type", FieldKind.TEXT),
    FieldSpec("target_path", FieldKind.TEXT),
    FieldSpec("load_method", FieldKind.TEXT),
    FieldSpec("target_app", FieldKind.TEXT),
    FieldSpec("app_state", FieldKind.TEXT, context=True, app_keyed=True),
    FieldSpec("device_locked", FieldKind.FLAG, context=True),
    FieldSpec("recent_user_interaction", FieldKind.FLAG, context=True, app_keyed=True),
)
EVENT_FIELDS: tuple[str, ...] = tuple(spec.name for spec in FIELD_SPECS)
CONTEXT_FIELDS: tuple[str, ...] = tuple(spec.name for spec in FIELD_SPECS if spec.context)
APP_KEYED_FIELDS: tuple[str, ...] = tuple(spec.name for spec in FIELD_SPECS if spec.app_keyed)
# What an Event holds beyond the normalized fields, derived from them once (see the annotations).
DERIVED_ATTRIBUTES = ("url_host", "url_name", "dest_key", "shared", "risk_memo", "_canonical", "_content")
_PRESENT_IF_SET = tuple((spec.name, spec.attribute) for spec in FIELD_SPECS[1:])


def _compiled(name: str, source: str) -> Any:
    """A function made from source derived from FIELD_SPECS (as `dataclasses` makes `__init__`):
    every event passes through these two, and plain attribute access is three times faster than a
    loop of `setattr` or an `attrgetter` of the table's names."""
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<events.{name}>", "exec"), namespace)  # our own table's names, no input
    return namespace[name]


# Every optional field None (`Event.__init__` sets the rest).
_init_fields = _compiled(
    "_init_fields",
    "def _init_fields(self):\n    "
    + " = ".join(f"self.{spec.attribute}" for spec in FIELD_SPECS if not spec.required)
    + " = None\n",
)
# The content identity: the fields but `event_id`, the time first (-0.0 kept apart by its text).
_identity = _compiled(
    "_identity",
    "def _identity(self):\n    time = self.time\n    return (time if time else repr(time), "
    + "".join(f"self.{spec.attribute}, " for spec in FIELD_SPECS[1:] if spec.identity)
    + ")\n",
)


class Event:
    """One normalized event. Plain slots: the correlator keeps a window of these."""

    __slots__ = tuple(sorted((*(spec.attribute for spec in FIELD_SPECS), *DERIVED_ATTRIBUTES)))

    # The annotations restate the table's names for the type checker (it cannot read the table);
    # `_check_annotations` below proves they name exactly the slots.
    time: float
    activity: str
    platform: str
    device_id: str
    app_id: str | None
    user: str | None
    event_id: str | None
    dest: str | None
    dest_corroborated: bool | None  # None: absent, which counts as corroborated
    dest_ip: str | None
    dest_port: float | None
    url: str | None
    src_ip: str | None
    bytes_in: float | None
    retrieval_method: str | None
    file_path: str | None
    file_name: str | None
    file_size: float | None
    file_hash: str | None
    file_type: str | None
    target_path: str | None
    load_method: str | None
    target_app: str | None
    app_state: str | None
    device_locked: bool | None
    recent_user_interaction: bool | None
    url_host: str | None  # derived: the URL's normalized host
    url_name: str | None  # derived: the URL's last path segment
    dest_key: tuple[str, bool] | None  # derived: "the same destination" (dest, name corroborated)
    shared: bool  # derived: an Android file in shared storage
    risk_memo: tuple[object, str | None] | None  # (rules, risk class): see Rules.risk_class
    _canonical: str | None
    _content: tuple[object, ...] | None

    def __init__(self, time: float, activity: str, platform: str, device_id: str) -> None:
        self.time = time
        self.activity = activity
        self.platform = platform
        self.device_id = device_id
        _init_fields(self)
        self.url_host = self.url_name = None
        self.dest_key = None
        self.shared = False
        self.risk_memo = None
        self._canonical = None
        self._content = None

    def to_dict(self) -> dict[str, object]:
        """The normalized fields that are present, `_time` first."""
        out: dict[str, object] = {"_time": self.time}
        for name, attribute in _PRESENT_IF_SET:
            value = getattr(self, attribute)
            if value is not None:
                out[name] = value
        return out

    @property
    def canonical(self) -> str:
        """Canonical JSON (keys sorted): the tie-breaker at equal times, and the content identity."""
        if self._canonical is None:
            self._canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return self._canonical

    @property
    def content(self) -> tuple[object, ...]:
        """The content identity: equal exactly when the canonical JSON without `event_id` is equal.

        A tuple of the fields instead of a JSON string (building JSON for every event was a fifth of
        the run). Each field has one type (`FieldKind`), so tuple equality is JSON equality; only
        the time can be -0.0, kept apart by its text."""
        if self._content is None:
            self._content = _identity(self)
        return self._content

    @property
    def position(self) -> tuple[float, str]:
        """Total order of events: time, then canonical JSON."""
        return (self.time, self.canonical)

    @property
    def name_corroborated(self) -> bool:
        """Whether the host name in `dest` (or the URL's host) may be matched against host-name
        rows: absent means corroborated (interface 1 of docs/contract-decisions.md)."""
        return self.dest_corroborated is not False

    def carries_context(self) -> bool:
        # Spelled out (not a loop over CONTEXT_FIELDS): every event passes here; the check below
        # proves these are the context fields.
        return (
            self.app_state is not None
            or self.device_locked is not None
            or (self.recent_user_interaction is not None)
        )

    def __repr__(self) -> str:
        return f"Event({self.canonical})"


def _check_annotations() -> None:
    """The annotations (for the type checker) and the table name the same attributes with the
    same types, and `carries_context` (spelled out: every event passes there) reads exactly the
    context fields."""
    differ = set(Event.__annotations__) ^ set(Event.__slots__)
    if differ:
        raise TypeError(f"Event's annotations and FIELD_SPECS differ: {sorted(differ)}")
    for spec in FIELD_SPECS:
        annotation = Event.__annotations__[spec.attribute]
        expected = spec.kind.annotation if spec.required else f"{spec.kind.annotation} | None"
        if annotation != expected:
            raise TypeError(f"Event.{spec.attribute} is annotated {annotation!r}; FIELD_SPECS: {expected!r}")
        probe = Event(0.0, "state", "android", "d")
        if not spec.required:
            setattr(probe, spec.attribute, "x")
        if probe.carries_context() != spec.context:
            raise TypeError(f"Event.carries_context() and FIELD_SPECS differ on {spec.name}")


_check_annotations()


def sort_events(events: list[Event]) -> None:
    """Sort in place by position (time, then canonical JSON), computing canonical JSON only
    for events that share a time: it is the costly part of the key."""
    events.sort(key=_time_of)
    start = 0
    count = len(events)
    while start < count:
        end = start + 1
        while end < count and events[end].time == events[start].time:
            end += 1
        if end - start > 1:
            events[start:end] = sorted(events[start:end], key=_canonical_of)
        start = end


def _time_of(event: Event) -> float:
    return event.time


def _canonical_of(event: Event) -> str:
    return event.canonical


# URLs and paths repeat across a fleet (the same CDN object, the same cache folder): parse each once.
@lru_cache(maxsize=1 << 16)
def _url_parts(url: str) -> tuple[str | None, str | None]:
    return url_host(url), url_last_segment(url)


@lru_cache(maxsize=1 << 16)
def _normalized_path(text: str, platform: str) -> str:
    return normalize_path(text, platform)


def _text(record: Mapping[str, object], name: str) -> str | None:
    value = record.get(name)
    if type(value) is str:  # the usual case, first: a plain string
        return value.strip() or None
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        value = str(value).lower()
    elif isinstance(value, float) and value.is_integer():
        value = str(int(value))
    text = str(value).strip()
    return text or None


class _Normalizer:
    """State for one record: collects warnings while filling an Event."""

    def __init__(self, record: Mapping[str, object], lookups: Lookups) -> None:
        self.record = record
        self.lookups = lookups
        self.warnings: list[str] = []

    def warn(self, name: str, value: object, why: str) -> None:
        self.warnings.append(f"{name}={_excerpt(value)} {why}; counted as absent")

    def number(self, name: str, minimum: float = 0.0, maximum: float | None = None) -> float | None:
        raw = self.record.get(name)
        if raw is None or raw == "":
            return None
        number = parse_number(raw)
        if number is None or number < minimum:
            self.warn(name, raw, "is not a number" if number is None else f"is below {minimum:g}")
            return None
        if maximum is not None and number > maximum:
            self.warn(name, raw, f"is above {maximum:.0f}")
            return None
        return int(number) if number.is_integer() else number

    def boolean(self, name: str) -> bool | None:
        raw = self.record.get(name)
        if raw is None or raw == "":
            return None
        try:
            return parse_bool(raw)
        except ValueError:
            self.warn(name, raw, "is not a boolean")
            return None

    def choice(self, name: str, allowed: frozenset[str], fallback: str | None) -> str | None:
        text = _text(self.record, name)
        if text is None:
            return None
        value = text.lower()
        if value in allowed:
            return value
        if fallback is not None:
            self.warnings.append(f"{name}={text!r} is not a known value; counted as {fallback!r}")
            return fallback
        self.warn(name, text, f"is not one of {', '.join(sorted(allowed))}")
        return None


# Interface 2 (docs/contract-decisions.md): why a flow's device stays unknown, each counted under
# its own key in the summary. The last two come from a lease span no managed device is known for
# (device attribution, docs/data.md): a randomized MAC, or a MAC no MDM reports.
UNRESOLVED_NO_ROW = "unresolved device (no inventory row)"
UNRESOLVED_AMBIGUOUS = "unresolved device (ambiguous)"
UNRESOLVED_RANDOMIZED = "unresolved device (randomized MAC)"
UNRESOLVED_UNMANAGED = "unresolved device (unmanaged device)"


def _when(time: float) -> str:
    return f"{time:.3f}".rstrip("0").rstrip(".")


def _resolve_by_ip(lookups: Lookups, ip: str, time: float) -> InventoryRow:
    rows = [row for row in lookups.inventory_by_ip(ip) if row.covers(time)]
    if not rows:
        raise InvalidEvent(
            UNRESOLVED_NO_ROW, ip, f"unresolved device: no inventory row covers {ip} at {_when(time)}"
        )
    if len(rows) > 1:
        raise InvalidEvent(
            UNRESOLVED_AMBIGUOUS,
            ip,
            f"unresolved device: {len(rows)} inventory rows cover {ip} at {_when(time)} (ambiguous)",
        )
    row = rows[0]
    if not row.device_id:
        leased = f"unresolved device: {ip} at {_when(time)} is leased to MAC {row.mac}"
        if row.mac_randomized:
            raise InvalidEvent(UNRESOLVED_RANDOMIZED, ip, f"{leased}, a randomized MAC no MDM reports")
        if (row.mac_devices or 0) > 1:
            raise InvalidEvent(
                UNRESOLVED_AMBIGUOUS, ip, f"{leased}, which {row.mac_devices} MDM devices report (ambiguous)"
            )
        raise InvalidEvent(UNRESOLVED_UNMANAGED, ip, f"{leased}, which no MDM reports (unmanaged device)")
    return row


def _platform_of_device(lookups: Lookups, device_id: str, time: float) -> str | None:
    rows = [row for row in lookups.inventory_of_device(device_id) if row.platform]
    covering = [row for row in rows if row.covers(time)]
    chosen = covering or rows
    return chosen[0].platform if chosen else None


def normalize_record(record: Mapping[str, object], lookups: Lookups) -> tuple[Event, list[str]]:
    """A validated Event and its warnings; InvalidEvent (with the reason) when it must be skipped."""
    n = _Normalizer(record, lookups)
    time = parse_time(record.get("_time"))
    activity_text = _text(record, "activity")
    if activity_text is None:
        raise InvalidEvent("missing activity")
    activity = activity_text.lower()
    if activity not in ACTIVITIES:
        raise InvalidEvent("invalid activity", repr(activity_text))

    platform_text = _text(record, "platform")
    platform = platform_text.lower() if platform_text else None
    if platform is not None and platform not in PLATFORMS:
        raise InvalidEvent("invalid platform", repr(platform_text))

    device_id = _text(record, "device_id")
    src_ip_text = _text(record, "src_ip")
    src_ip = normalize_host(src_ip_text) if src_ip_text else None
    if src_ip_text and (src_ip is None or parse_ip(src_ip) is None):
        n.warn("src_ip", src_ip_text, "is not an IP address")
        src_ip = None
    user = _text(record, "user")
    if device_id is None:
        if activity != "retrieval":
            raise InvalidEvent("missing device_id")
        if src_ip is None:
            raise InvalidEvent("missing device_id (and no src_ip to resolve it)")
        row = _resolve_by_ip(lookups, src_ip, time)
        device_id = row.device_id
        if platform is None:
            platform = row.platform
        if user is None and row.user:
            user = row.user
    if platform is None:
        if activity == "retrieval":
            platform = _platform_of_device(lookups, device_id, time)
        if platform is None:
            raise InvalidEvent("missing platform")

    event = Event(time, activity, platform, device_id)
    event.user = user
    event.event_id = _text(record, "event_id")
    event.src_ip = src_ip
    app_id = _text(record, "app_id")

    if activity == "retrieval":
        url = _text(record, "url")
        event.url = url
        if url:
            event.url_host, event.url_name = _url_parts(url)
        dest_ip_text = _text(record, "dest_ip")
        dest_ip = normalize_host(dest_ip_text) if dest_ip_text else None
        if dest_ip_text and (dest_ip is None or parse_ip(dest_ip) is None):
            n.warn("dest_ip", dest_ip_text, "is not an IP address")
            dest_ip = None
        event.dest_ip = dest_ip
        dest_text = _text(record, "dest")
        dest = normalize_host(dest_text) if dest_text else None
        if dest_text and dest is None:
            # Never data that acts as a pattern (`*`, quotes, commas): the value is refused. The
            # URL's host or the connected address still name the retrieval, so a sender cannot
            # hide it with a bad Host header; with neither, the retrieval is invalid.
            n.warn("dest", dest_text, "is not a host name or IP")
        dest = dest or event.url_host or dest_ip
        if dest is None:
            if dest_text:
                raise InvalidEvent("invalid dest (not a host name or IP, and no url host or dest_ip)",
                                   _excerpt(dest_text))
            raise InvalidEvent("missing dest (no dest, url host or dest_ip)")
        if is_loopback(dest) or is_loopback(dest_ip) or is_loopback(event.url_host):
            raise InvalidEvent("loopback retrieval (ignored)", dest)
        event.dest = dest
        event.dest_corroborated = n.boolean("dest_corroborated")
        event.dest_key = (dest, event.name_corroborated)
        event.dest_port = n.number("dest_port", maximum=65535)
        event.bytes_in = n.number("bytes_in", maximum=MAX_BYTES)
        event.retrieval_method = n.choice("retrieval_method", RETRIEVAL_METHODS, "other")
        # The download's own name (Zeek's Content-Disposition file name): it names the staged file
        # like the URL's last segment does (docs/contract-decisions.md, "Chain").
        event.file_name = _text(record, "file_name")

    if activity in FILE_ACTIVITIES:
        path_text = _text(record, "file_path")
        if path_text is None:
            raise InvalidEvent("missing file_path")
        path = _normalized_path(path_text, platform)
        event.file_path = path
        if app_id is None and platform == "android":
            app_id = android_app_from_path(path)
            if app_id is None and is_shared_storage(path):
                event.shared = True
        if app_id is None and not event.shared:
            raise InvalidEvent("missing app_id (not derivable from file_path)", path)
        if platform == "android" and is_shared_storage(path):
            event.shared = True
        event.file_hash = (_text(record, "file_hash") or "").lower() or None
        if activity == "file_create":
            event.file_name = _text(record, "file_name") or basename(path)
            event.file_size = n.number("file_size", maximum=MAX_BYTES)
            file_type = _text(record, "file_type")
            if file_type:
                file_type = file_type.split(";", 1)[0].strip().lower() or None
            event.file_type = file_type
        if activity == "unpack":
            target = _text(record, "target_path")
            event.target_path = normalize_path(target, platform) if target else None
        if activity == "load":
            event.load_method = n.choice("load_method", LOAD_METHODS, "other")
        if activity == "handoff":
            event.target_app = _text(record, "target_app")

    event.app_id = app_id
    event.app_state = n.choice("app_state", APP_STATES, None)
    event.device_locked = n.boolean("device_locked")
    event.recent_user_interaction = n.boolean("recent_user_interaction")
    return event, n.warnings
