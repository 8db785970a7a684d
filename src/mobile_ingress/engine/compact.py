"""Candidates first, part one: a record read in the few fields the neighbourhood rule needs.

Normalizing a record (events.normalize_record) costs several times what parsing its JSON does, and
nearly every event matters only if a finding's anchor (a staged file that may be risky, an iOS
retrieval of a managed app without an approved role) lies within reach of it. So a record is first
read *compactly*: its time, device, activity, app, event id and context, with only the checks that
prove `normalize_record` would accept it with no skip and no warning (it is *clean*). A clean record
that cannot be an anchor becomes a compact `Item`; anything else (a record in any doubt, or one that
may be an anchor) is normalized in full at once, as before, so every skip and warning is reported
in input order with its own message. A compact item kept for correlation is normalized in full when
the neighbourhood rule (engine/candidates.py) keeps it; it then gives no message by construction.

The checks are deliberately narrower than the contract: a value in an unusual form (an ISO time, an
activity in upper case, a number given as a list, a flow without device_id) is simply not clean and
takes the full path. `tests/engine/test_compact.py` proves the one direction that matters: a clean
record is one `normalize_record` accepts silently, with the same fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Optional

from . import events as _events
from .errors import InvalidEvent
from .events import (
    FILE_ACTIVITIES,
    IN_PROCESS_LOADS,
    LOAD_METHODS,
    MAX_BYTES,
    RETRIEVAL_METHODS,
    Event,
    _text,
)
from .globs import Glob, glob_regex
from .hosts import is_loopback, normalize_host, parse_ip, url_host
from .paths import REMAP_PREFIXES
from .rules import Rules
from .timeparse import EARLIEST, LATEST, parse_number

Context = tuple[
    Optional[str], Optional[bool], Optional[bool]
]  # app_state, device_locked, recent_user_interaction
# The canonical spelling of each activity: any other spelling is normalized (lower case, trimmed)
# by the full path.
_ACTIVITY = {name: name for name in ("retrieval", "file_create", "unpack", "load", "handoff", "state")}
_BAD = object()  # a number normalize_record would warn about
# A path already in normal form: absolute, no empty, `.` or `..` segment, no trailing slash, no
# alias to map (the prefixes without their slash, so `/sdcard` itself is left to the full path too).
_ALIASES = tuple(prefix.rstrip("/") for prefix in REMAP_PREFIXES)
# The values normalization keeps as they are, absent included (1 and 0 are True and False to a
# dict, as they are to `parse_bool`).
_STATES: dict[object, str | None] = {
    None: None,
    "": None,
    "foreground": "foreground",
    "background": "background",
}
_FLAGS: dict[object, bool | None] = {
    None: None,
    "": None,
    True: True,
    False: False,
    "true": True,
    "false": False,
}
_AUTHORITY_END = re.compile(r"[/?#]")
MEMO_LIMIT = 1 << 16  # values a memo of what normalization decides keeps (then it starts over)


ANCHOR = 1  # a staged file that may be risky, or a retrieval-only candidate
COVERED = 2  # a risky file an allowed path covers: an anchor only if then loaded in-process
IN_PROCESS = 4  # a load in-process (dexclassloader, loadlibrary, dlopen)


class Item:
    """One valid event as the neighbourhood rule reads it: compact (`source` is the record, or the
    NDJSON line a reader parsed it from, which `json.loads` reads the same: kept until the rule
    keeps the item, then normalized) or full (`source` is the Event, normalized at intake: a record
    in doubt, or one that may be an anchor). `kind` holds the flags above."""

    __slots__ = ("activity", "app_id", "context", "device", "device_id", "event_id", "forced", "kind",
                 "platform", "source", "time")  # fmt: skip

    def __init__(
        self,
        time: float,
        activity: str,
        platform: str,
        device_id: str,
        app_id: str | None,
        event_id: str | None,
        context: Context | None,
        source: Mapping[str, object] | str | Event | None,
        kind: int,
    ) -> None:
        self.time = time
        self.activity = activity
        self.platform = platform
        self.device_id = device_id
        self.app_id = app_id
        self.event_id = event_id
        self.context = context
        self.source = source
        self.kind = kind
        self.forced = False  # kept whatever its distance: see NeighbourhoodGate
        self.device: Any = None  # the neighbourhood rule's record of its device (while it is decided)

    @property
    def event(self) -> Event | None:
        """The normalized event of a full item (None for a compact one)."""
        return self.source if isinstance(self.source, Event) else None


def _number(value: object, maximum: float) -> object:
    """The value `_Normalizer.number` gives without a warning: None when absent, `_BAD` when it
    would warn (or is in a form left to the full path)."""
    if value is None or value == "":
        return None
    kind = type(value)
    if kind is int:
        return value if 0 <= value <= maximum else _BAD  # type: ignore[operator]
    if kind is float:
        return value if 0.0 <= value <= maximum else _BAD  # type: ignore[operator]  # NaN fails both
    if kind is str:
        number = parse_number(value)
        if number is None or not 0.0 <= number <= maximum:
            return _BAD
        return int(number) if number.is_integer() else number
    return _BAD


class Compactor:
    """Reads records compactly for one set of rules (see the module docstring)."""

    def __init__(self, rules: Rules, with_suppressed: bool) -> None:
        self.rules = rules
        self.threshold = rules.settings.ingress_bytes_threshold
        # iOS apps whose retrievals may be retrieval-only candidates: those records take the full path.
        self.candidate_apps = frozenset(
            app
            for (platform, app), row in rules.lookups.managed_apps.items()
            if platform in ("*", "ios") and row.managed and not row.approved
        )
        self.files = {platform: _FileTest(rules, platform) for platform in ("android", "ios")}
        # Memos of what normalization decides about values that repeat across a fleet.
        self._hosts: dict[str, str | bool] = {}  # dest: the host name or IP, False (none, or loopback)
        self._addresses: dict[str, str | bool] = {}  # dest_ip: the IP, "" (blank), False (no IP, loopback)
        self._sources: dict[str, str | bool] = {}  # src_ip: the address, "" (blank) or False (no IP)
        self._authorities: dict[str, str | bool] = {}  # a URL up to its authority: its host, "" or False
        # a retrieval-only candidate's destination, address, URL host and corroboration, by app:
        # the earliest time it was suppressed
        self._suppressed: dict[tuple[str, object, object, object, object], float] = {}
        self.with_suppressed = with_suppressed

    def compact(self, record: Mapping[str, object]) -> Item | None:
        """The record as a compact `Item`, or None when it must take the full path."""
        get = record.get
        value = get("_time")
        kind = type(value)
        if kind is float or kind is int:
            if not -1e18 < value < 1e18:  # type: ignore[operator]  # also NaN and infinities
                return None
            number = float(value)  # type: ignore[arg-type]
        elif kind is str:
            parsed = parse_number(value)
            if parsed is None:
                return None
            number = parsed
        else:
            return None
        time = number / 1000.0 if abs(number) >= 1e11 else number
        if not EARLIEST <= time <= LATEST:
            return None
        value = get("activity")
        if type(value) is not str:
            return None
        activity = _ACTIVITY.get(value)
        if activity is None:
            return None
        platform = get("platform")
        if platform != "android" and platform != "ios":
            if platform is not None and platform != "":
                return None
            platform = None
        value = get("device_id")
        if type(value) is str:
            device_id = value.strip() or None
        elif value is None:
            device_id = None
        else:
            return None
        value = get("src_ip")
        source = None
        if value is not None and value != "":
            if type(value) is not str:
                return None
            source = self._sources.get(value)
            if source is None:
                source = _remember(self._sources, value, _source(value))
            if source is False:
                return None  # not an IP: a warning, the full path
        if device_id is None:
            # A flow: its device is the one inventory row covering its address at its time
            # (events._resolve_by_ip, called as normalization calls it, so any reason it gives
            # to leave the device unknown is the full path's to report).
            if activity != "retrieval" or not source:
                return None
            try:
                row = _events._resolve_by_ip(self.rules.lookups, source, time)  # type: ignore[arg-type]
            except InvalidEvent:
                return None
            device_id = row.device_id
            if not device_id:
                return None
            if platform is None:
                platform = row.platform
        if platform is None:
            return None
        value = get("event_id")
        if value is None:
            event_id = None
        elif type(value) is str:
            event_id = value.strip() or None
        else:
            event_id = _text(record, "event_id")
        value = get("app_id")
        if value is None:
            app_id = None
        elif type(value) is str:
            app_id = value.strip() or None
        else:
            app_id = _text(record, "app_id")
        # Context: the exact values only (anything else is normalized, perhaps with a warning; an
        # unhashable value is not in the table either).
        try:
            state = _STATES[get("app_state")]
            locked = _FLAGS[get("device_locked")]
            recent = _FLAGS[get("recent_user_interaction")]
        except (KeyError, TypeError):
            return None
        role = 0
        if activity == "retrieval":
            if not self._retrieval_clean(get):
                return None
            if (
                platform == "ios"
                and app_id in self.candidate_apps
                and not self._never_a_candidate(
                    get,
                    time,
                    device_id,
                    app_id,
                )
            ):
                return None  # a retrieval-only candidate: an anchor, read in full
        elif activity in FILE_ACTIVITIES:
            value = get("file_path")
            if type(value) is not str or app_id is None:
                return None  # no path (skipped) or an app derived from it: the full path
            path = value.strip()
            if not path:
                return None
            if activity == "file_create":
                staged = self._staged(get, platform, path, app_id)
                if staged is None:
                    return None
                if staged:
                    role = COVERED
            elif activity == "load":
                method = get("load_method")
                if method is not None and method != "":
                    if type(method) is not str or method not in LOAD_METHODS:
                        return None
                    if method in IN_PROCESS_LOADS:
                        role = IN_PROCESS
        context = None
        if state is not None or locked is not None or recent is not None:
            context = (state, locked, recent)
        return Item(time, activity, platform, device_id, app_id, event_id, context, record, role)

    def _retrieval_clean(self, get: object) -> bool:
        """No skip and no warning from the retrieval fields: a host name or IP in `dest` (never
        loopback), a clean `dest_ip` and URL host, numbers in range, a known method."""
        fetch = get  # a Mapping's get
        value = fetch("dest")  # type: ignore[operator]
        if type(value) is not str:
            return False  # no dest: the full path decides which host names the retrieval
        host = self._hosts.get(value)
        if host is None:
            host = _remember(self._hosts, value, _dest(value))
        if host is False:
            return False
        value = fetch("dest_ip")  # type: ignore[operator]
        if value is not None and value != "":
            if type(value) is not str:
                return False
            address = self._addresses.get(value)
            if address is None:
                address = _remember(self._addresses, value, _address(value))
            if address is False:
                return False
        value = fetch("url")  # type: ignore[operator]
        if value is not None and value != "":
            if type(value) is not str:
                return False
            text = value.strip()
            if text:
                start = text.find("://")
                if start < 0:
                    return False
                end = text.find("/", start + 3)
                authority = text if end < 0 else text[:end]
                if "?" in authority or "#" in authority:  # the authority may end sooner
                    found = _AUTHORITY_END.search(text, start + 3)
                    authority = text if found is None else text[: found.start()]
                named = self._authorities.get(authority)
                if named is None:
                    named = _remember(self._authorities, authority, _url_host(authority))
                if named is False:
                    return False
        try:
            _FLAGS[fetch("dest_corroborated")]  # type: ignore[operator]
        except (KeyError, TypeError):
            return False
        value = fetch("dest_port")  # type: ignore[operator]
        if not (type(value) is int and 0 <= value <= 65535) and _number(value, 65535) is _BAD:
            return False
        value = fetch("bytes_in")  # type: ignore[operator]
        if not (type(value) is int and 0 <= value <= MAX_BYTES) and _number(value, MAX_BYTES) is _BAD:
            return False
        value = fetch("retrieval_method")  # type: ignore[operator]
        return value is None or value == "" or (type(value) is str and value in RETRIEVAL_METHODS)

    def _never_a_candidate(self, get: object, time: float, device_id: str, app_id: str) -> bool:
        """A clean iOS retrieval of a managed app without an approved role is a retrieval-only
        candidate (an anchor) unless an allowed app, an allowed destination or an old enough
        baseline row suppresses it: `Rules.retrieval_suppression` on what it reads of the
        retrieval (its normalized destination, address, URL host and corroboration)."""
        if self.with_suppressed:
            return False  # suppressed candidates are written too
        fetch = get
        dest = self._hosts[fetch("dest")]  # type: ignore[operator]
        address = fetch("dest_ip")  # type: ignore[operator]
        dest_ip = self._addresses[address] or None if address else None
        url = fetch("url")  # type: ignore[operator]
        text = url.strip() if url else ""
        url_host = None
        if text:  # the authority `compact` looked up
            found = _AUTHORITY_END.search(text, text.find("://") + 3)
            url_host = self._authorities[text if found is None else text[: found.start()]] or None
        corroborated = fetch("dest_corroborated")  # type: ignore[operator]
        corroboration = (
            (corroborated is True or corroborated == "true") if corroborated not in (None, "") else None
        )
        # What suppresses a retrieval only grows with its time (an allowed app or destination at
        # any time, a baseline row from its first_seen and a window on): the earliest time a
        # retrieval like it was suppressed answers for every later one, without the rules
        # (issue 16: on the 1M fleet, 64 calls of the rules instead of about 10,000 in 300k
        # records; the compact read about 5 % faster, measured).
        key = (app_id, dest, dest_ip, url_host, corroboration)
        since = self._suppressed.get(key)
        if since is not None and time >= since:
            return True
        probe = Event(time, "retrieval", "ios", device_id)
        probe.app_id = app_id
        probe.dest = dest  # type: ignore[assignment]
        probe.dest_ip = dest_ip  # type: ignore[assignment]
        probe.url_host = url_host  # type: ignore[assignment]
        probe.dest_corroborated = corroboration
        if self.rules.retrieval_suppression(probe) is None:
            return False
        if since is None or time < since:
            _remember(self._suppressed, key, time)
        return True

    def _staged(self, get: object, platform: str, path: str, app_id: str) -> bool | None:
        """A clean file_create: False when no risk pattern matches it, True when one does and an
        allowed path covers it for every retrieval (it anchors only if then loaded in-process);
        None when it may anchor, or has a field in a form left to the full path."""
        fetch = get
        size = _number(fetch("file_size"), MAX_BYTES)  # type: ignore[operator]
        if size is _BAD:
            return None
        value = fetch("file_type")  # type: ignore[operator]
        if value is None or value == "":
            file_type = None
        elif type(value) is str:
            text = value.strip()
            file_type = (text.split(";", 1)[0].strip().lower() or None) if text else None
        else:
            return None
        value = fetch("file_name")  # type: ignore[operator]
        if value is None:
            name = None
        elif type(value) is str:
            name = value.strip() or None
        else:
            return None
        # The path in normal form already (else normalization may change it: the full path).
        if (
            path[0] != "/"
            or "//" in path
            or "/." in path
            or path[-1] == "/"
            or path.startswith(_ALIASES)
            or (platform == "ios" and path.startswith("/var"))
        ):
            return None
        if name is None:
            name = path.rsplit("/", 1)[-1]
        test = self.files[platform]
        if not test.risky(name, file_type, path, size):  # type: ignore[arg-type]
            return False
        if self.with_suppressed or not test.covered(path, app_id):
            return None  # an anchor: the full path
        return True


class _FileTest:
    """For one platform: whether a risk pattern row matches a file (`Rules.risk_class` is not
    None) and whether an allowed path row covers it for every retrieval
    (`Rules.path_blocks_every_retrieval`). The same expressions as the rows' globs, in one per
    field (or app), and for plain ASCII values the common glob forms without a regular
    expression: `*.ext` (a suffix, no `/`), a literal, `literal*` (a prefix, no `/` after it); a
    path pattern's regular expression runs only when the path holds its longest literal piece."""

    def __init__(self, rules: Rules, platform: str) -> None:
        self.threshold = rules.settings.ingress_bytes_threshold
        self.noext = False
        self.name_suffixes: list[str] = []
        self.type_literals: set[str] = set()
        self.type_prefixes: list[str] = []
        self.risk_rows: list[tuple[str, Glob]] = []  # rows matched one by one (no regular expression)
        sources: dict[str, list[str]] = {}
        pieces: list[str] = []  # path rows: the piece each must contain (lower case); "" if none
        for row in rules.lookups.risk_patterns:
            if row.platform not in ("*", platform):
                continue
            if row.regex is None:
                self.noext = True
                continue
            if row.regex.regex is None:
                self.risk_rows.append((row.field, row.regex))
                continue
            literal = row.pattern.lstrip("*") if row.pattern.startswith("*") else None
            if (
                row.field == "file_name"
                and literal
                and _plain(literal)
                and "/" not in literal
                and row.pattern == "*" + literal
            ):
                self.name_suffixes.append(literal.lower())
                continue
            if row.field == "file_type" and _plain(row.pattern):
                self.type_literals.add(row.pattern.lower())
                continue
            if row.field == "file_type" and row.pattern.endswith("*") and _plain(row.pattern[:-1]):
                self.type_prefixes.append(row.pattern[:-1].lower())
                continue
            sources.setdefault(row.field, []).append(glob_regex(row.pattern))
            if row.field == "file_path":
                chunks = [c for c in re.split(r"[*?/]", row.pattern) if c]
                longest = max(chunks, key=len) if chunks else ""
                pieces.append(longest.lower() if longest.isascii() else "")
        self.suffixes = tuple(self.name_suffixes)
        self._types: dict[str, bool] = {}
        # the flags of compile_glob(case_sensitive=False)
        self.risk_fields = [
            (field, _combined(regexes, re.DOTALL | re.IGNORECASE)) for field, regexes in sources.items()
        ]
        self.path_pieces = None if "" in pieces else tuple(pieces)  # None: no piece prunes the check
        by_app: dict[str, list[str]] = {}
        self.path_rows: list[tuple[str, Glob]] = []
        for path_row in rules.lookups.allowed_paths:
            if path_row.platform not in ("*", platform):
                continue
            if path_row.regex.regex is not None:
                by_app.setdefault(path_row.app_id, []).append(glob_regex(path_row.pattern))
            else:
                self.path_rows.append((path_row.app_id, path_row.regex))
        self.paths = {app: _combined(regexes, re.DOTALL) for app, regexes in by_app.items()}

    def risky(self, name: str, file_type: str | None, path: str, size: float | None) -> bool:
        if self.noext and "." not in name[1:] and size is not None and size >= self.threshold:
            return True
        if name.isascii() and "/" not in name:
            if self.suffixes and name.lower().endswith(self.suffixes):
                return True
        elif self.suffixes and _suffix_regex(self.suffixes).match(name) is not None:
            return True
        if file_type is not None:
            typed = self._types.get(file_type)
            if typed is None:
                if len(self._types) >= MEMO_LIMIT:
                    self._types.clear()
                typed = self._types[file_type] = self._risky_type(file_type)
            if typed:
                return True
        for field, regex in self.risk_fields:
            if field == "file_name":
                if regex.match(name) is not None:
                    return True
            elif field == "file_path":
                if self.path_pieces is not None and path.isascii():
                    low_path = path.lower()
                    if not any(piece in low_path for piece in self.path_pieces):
                        continue  # the path holds no row's literal piece: no row matches
                if regex.match(path) is not None:
                    return True
        for field, glob in self.risk_rows:
            if field != "file_type" and glob.match(name if field == "file_name" else path):
                return True
        return False

    def _risky_type(self, file_type: str) -> bool:
        """Whether a risk pattern row on file_type matches (types repeat: each is asked once)."""
        if file_type.isascii():
            low = file_type.lower()
            if low in self.type_literals:
                return True
            if any(low.startswith(prefix) and "/" not in low[len(prefix) :] for prefix in self.type_prefixes):
                return True
        else:
            if any(_literal_regex(literal).match(file_type) is not None for literal in self.type_literals):
                return True
            if any(_literal_regex(p, star=True).match(file_type) is not None for p in self.type_prefixes):
                return True
        for field, regex in self.risk_fields:
            if field == "file_type" and regex.match(file_type) is not None:
                return True
        return any(field == "file_type" and glob.match(file_type) for field, glob in self.risk_rows)

    def covered(self, path: str, app_id: str) -> bool:
        for app in ("*", app_id):
            regex = self.paths.get(app)
            if regex is not None and regex.match(path) is not None:
                return True
        return any(app in ("*", app_id) and glob.match(path) for app, glob in self.path_rows)


def _plain(text: str) -> bool:
    """ASCII with no glob character: a literal whose case folds as `str.lower` does."""
    return text.isascii() and "*" not in text and "?" not in text


@lru_cache(maxsize=64)
def _suffix_regex(suffixes: tuple[str, ...]) -> re.Pattern[str]:
    """The `*.ext` rows as their globs' expressions, for a name the fast form does not cover."""
    return _combined([glob_regex("*" + suffix) for suffix in suffixes], re.DOTALL | re.IGNORECASE)


@lru_cache(maxsize=256)
def _literal_regex(literal: str, star: bool = False) -> re.Pattern[str]:
    return _combined([glob_regex(literal + ("*" if star else ""))], re.DOTALL | re.IGNORECASE)


def _combined(regexes: list[str], flags: int) -> re.Pattern[str]:
    return re.compile(r"\A(?:" + "|".join(regexes) + r")\Z", flags)


def _source(text: str) -> str | bool:
    """src_ip as normalization reads it: the address, "" when blank, False when no IP (a warning)."""
    stripped = text.strip()
    if not stripped:
        return ""
    host = normalize_host(stripped)
    return host if host is not None and parse_ip(host) is not None else False


def _dest(text: str) -> str | bool:
    """dest as normalization reads it: the host (name or IP), or False when there is none (blank:
    the full path names the host), it is no host (a warning) or it is loopback (a skip)."""
    stripped = text.strip()
    if not stripped:
        return False
    host = normalize_host(stripped)
    return host if host is not None and not is_loopback(host) else False


def _address(text: str) -> str | bool:
    """dest_ip: the address, "" when blank, False when it is no IP (a warning) or loopback (a skip)."""
    stripped = text.strip()
    if not stripped:
        return ""
    host = normalize_host(stripped)
    return host if host is not None and parse_ip(host) is not None and not is_loopback(host) else False


def _url_host(authority: str) -> str | bool:
    """A URL's host from its scheme and authority: the host, "" when none, False when loopback."""
    host = url_host(authority)
    if host is None:
        return ""
    return False if is_loopback(host) else host


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> Any:
    """VALUE, kept in MEMO under KEY (a memo at MEMO_LIMIT starts over: it stays bounded)."""
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = value
    return value
