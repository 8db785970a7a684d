"""The compact reading (engine/compact.py): a record it takes as clean is one `normalize_record`
accepts with no skip and no warning, with the same fields; a record in any doubt takes the full path."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mobile_ingress.engine.compact import ANCHOR, COVERED, IN_PROCESS, MEMO_LIMIT, Compactor, _remember
from mobile_ingress.engine.errors import InvalidEvent
from mobile_ingress.engine.events import IN_PROCESS_LOADS, normalize_record
from mobile_ingress.engine.hosts import url_host
from mobile_ingress.engine.rules import Rules
from mobile_ingress.engine.settings import Settings

from .strategies import BASE, INVENTORY, LOOKUPS, SETTINGS, SHAPES, untidy, untidy_fleets
from .support import make_lookups

CONFIG = Settings().with_values(SETTINGS)
TABLES = make_lookups({**LOOKUPS, "device_inventory": INVENTORY})
RULES = Rules(TABLES, CONFIG)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(record: dict[str, Any], compactor: Compactor) -> bool:
    """Asserts what a compact item promises; True when the record was read compactly."""
    item = compactor.compact(record)
    if item is None:
        return False
    try:
        event, warnings = normalize_record(record, TABLES)
    except InvalidEvent as exc:  # pragma: no cover - the failure the assertion reports
        raise AssertionError(f"read as clean, but skipped: {exc.message}: {record}") from exc
    assert warnings == [], (warnings, record)
    context = (event.app_state, event.device_locked, event.recent_user_interaction)
    assert (item.time, item.activity, item.platform, item.device_id, item.app_id, item.event_id) == (
        event.time,
        event.activity,
        event.platform,
        event.device_id,
        event.app_id,
        event.event_id,
    ), record
    assert item.context == (context if any(v is not None for v in context) else None), record
    assert not item.kind & ANCHOR
    assert bool(item.kind & IN_PROCESS) == (
        event.activity == "load" and event.load_method in IN_PROCESS_LOADS
    )
    if event.activity == "file_create":
        risky = RULES.risk_class(event) is not None
        blocked = risky and RULES.path_blocks_every_retrieval(event)
        assert not risky or (blocked and not compactor.with_suppressed), record  # else an anchor: full path
        assert bool(item.kind & COVERED) == blocked, record
    if (
        event.activity == "retrieval"
        and event.platform == "ios"
        and RULES.unapproved_role("ios", event.app_id)
    ):
        # a managed app without a role: compact only when suppressed (then no candidate at all)
        assert not compactor.with_suppressed and RULES.retrieval_suppression(event) is not None, record
    return True


ANY_SHAPE = st.sampled_from(sorted(SHAPES)).flatmap(
    lambda shape: untidy_fleets(max_size=40, share=0.5, shape=shape)
)


@PROPERTY
@given(ANY_SHAPE, st.booleans())
def test_a_record_read_compactly_normalizes_silently_to_the_same_fields(
    events: list[dict[str, Any]], suppressed: bool
) -> None:
    compactor = Compactor(RULES, suppressed)
    read = sum(_check(record, compactor) for record in events)
    assert read <= len(events)


TIDY: dict[str, dict[str, Any]] = {
    "retrieval": {
        "_time": BASE,
        "activity": "retrieval",
        "platform": "android",
        "device_id": "d1",
        "app_id": "com.notes",
        "event_id": "e1",
        "app_state": "foreground",
        "dest": "cdn.example.com",
        "url": "https://cdn.example.com/a.json",
        "bytes_in": 100,
        "retrieval_method": "http",
    },
    "file_create": {
        "_time": BASE,
        "activity": "file_create",
        "platform": "android",
        "device_id": "d1",
        "app_id": "com.notes",
        "event_id": "e1",
        "file_path": "/data/data/com.notes/files/a.json",
        "file_size": 10,
    },
}


def test_tidy_records_are_read_compactly() -> None:
    compactor = Compactor(RULES, False)
    assert all(compactor.compact(record) is not None for record in TIDY.values())


@pytest.mark.parametrize(
    ("activity", "how"),
    [
        ("file_create", "iso"),
        ("file_create", "upper_activity"),
        ("file_create", "bad_number"),
        ("retrieval", "word_bool"),
        ("retrieval", "upper_state"),
        ("file_create", "nested"),
        ("retrieval", "loopback_url"),
        ("retrieval", "star_dest"),
        ("file_create", "alias_path"),
        ("file_create", "no_app"),
        ("retrieval", "unknown_method"),
        ("retrieval", "bad_ip"),
        ("file_create", "list_value"),
    ],
)
def test_a_record_normalization_would_change_or_question_takes_the_full_path(activity: str, how: str) -> None:
    record = untidy(TIDY[activity], how)
    assert record != TIDY[activity]
    assert Compactor(RULES, False).compact(record) is None


def test_a_flow_whose_device_is_known_is_read_compactly_and_one_whose_device_is_not_is_not() -> None:
    flow = {
        "_time": BASE + 10,
        "activity": "retrieval",
        "src_ip": "10.0.0.11",
        "dest": "cdn.example.com",
        "bytes_in": 100,
    }
    compactor = Compactor(RULES, False)
    item = compactor.compact(flow)
    assert item is not None and (item.device_id, item.platform) == ("d1", "android")
    assert compactor.compact({**flow, "src_ip": "10.0.0.12"}) is None  # two rows: ambiguous
    assert compactor.compact({**flow, "src_ip": "10.9.9.9"}) is None  # no row
    assert compactor.compact({**flow, "src_ip": "10.0.0.14"}) is None  # a row without platform


def test_a_staged_file_that_may_be_risky_is_normalized_in_full_and_a_benign_one_is_not() -> None:
    file = {
        "_time": BASE,
        "activity": "file_create",
        "platform": "android",
        "device_id": "d1",
        "app_id": "com.notes",
        "file_path": "/data/data/com.notes/files/notes.json",
    }
    compactor = Compactor(RULES, False)
    assert compactor.compact(file) is not None
    assert compactor.compact({**file, "file_path": "/data/data/com.notes/files/p.dex"}) is None
    covered = compactor.compact({**file, "file_path": "/data/data/com.notes/cache/okhttp/p.dex"})
    assert covered is not None and covered.kind & COVERED  # an allowed path: an anchor only if loaded
    assert (
        Compactor(RULES, True).compact({**file, "file_path": "/data/data/com.notes/cache/okhttp/p.dex"})
        is None
    )


def test_a_retrieval_of_a_managed_app_without_a_role_is_normalized_in_full() -> None:
    r = {
        "_time": BASE,
        "activity": "retrieval",
        "platform": "ios",
        "device_id": "d3",
        "app_id": "com.acme.game",
        "dest": "evil.example",
        "bytes_in": 100,
    }
    compactor = Compactor(RULES, False)
    assert compactor.compact(r) is not None
    assert compactor.compact({**r, "app_id": "com.acme.notes"}) is None


URL_TEXT = st.text(alphabet="ab:/?#@[]%.\t 1-", max_size=24)


@settings(max_examples=500, deadline=None)
@given(st.tuples(st.sampled_from(["https", "http", "a:b", "ht tp", ""]), URL_TEXT, URL_TEXT))
def test_a_urls_host_is_the_host_of_its_scheme_and_authority(parts: tuple[str, str, str]) -> None:
    """The compact reading judges a URL's host by the text up to the first `/`, `?` or `#` after
    `://` (it repeats across a fleet, the whole URL does not): it must name the same host."""
    scheme, authority, rest = parts
    text = f"{scheme}://{authority}{rest}".strip()
    start = text.find("://")
    if start < 0:
        return
    match = re.compile(r"[/?#]").search(text, start + 3)
    prefix = text if match is None else text[: match.start()]
    assert url_host(prefix) == url_host(text)


NAMES = st.sampled_from(
    [
        "p.dex",
        "P.DEX",
        "lib.so",
        "a.zip",
        "x.dylib",
        "blob",
        "index.html",
        "n.json",
        "şablon.apk",
        "a/b.apk",
        ".apk",
        "x.APK ",
        "Kelvin.\u212aey",
        "data.ſo",
    ]
)
TYPES = st.sampled_from(
    [
        None,
        "application/zip",
        "application/x-dex",
        "dalvik dex file",
        "elf 64-bit shared object, x",
        "elf shared object/x",
        "zip archive data",
        "text/html",
        "image/png",
        "ZIP ARCHIVE",
        "mach-o arm64",
        "ᴢip archive",
    ]
)
PATHS = st.sampled_from(
    [
        "/data/data/com.notes/files/{n}",
        "/data/data/com.notes/cache/okhttp/{n}",
        "/data/data/com.google.android.gms/app_chimera/m/{n}",
        "/storage/emulated/0/Download/{n}",
        "/private/var/mobile/Containers/Data/Application/U/Library/X.framework/{n}",
        "/private/var/mobile/Containers/Data/Application/U/Library/Caches/WebKit/{n}",
        "/private/var/mobile/Containers/Data/Application/U/a.Bundle/{n}",
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    NAMES,
    TYPES,
    PATHS,
    st.sampled_from([None, 10, 9000]),
    st.sampled_from(["com.notes", "com.google.android.gms"]),
)
def test_the_compact_file_test_agrees_with_the_rules_row_by_row(
    name: str, file_type: str | None, path: str, size: int | None, app: str
) -> None:
    platform = "ios" if path.startswith("/private") else "android"
    record = {
        "_time": BASE,
        "activity": "file_create",
        "platform": platform,
        "device_id": "d1",
        "app_id": app,
        "file_path": path.format(n="f"),
        "file_name": name,
        "file_type": file_type,
        "file_size": size,
    }
    event, _ = normalize_record({k: v for k, v in record.items() if v is not None}, TABLES)
    test = Compactor(RULES, False).files[platform]
    assert event.file_name is not None and event.file_path is not None
    assert test.risky(event.file_name, event.file_type, event.file_path, event.file_size) == (
        RULES.risk_class(event) is not None
    )
    assert test.covered(event.file_path, app) == RULES.path_blocks_every_retrieval(event)


# Issue 16: what the compact reading remembers across records (a suppressed retrieval, its memos)
# and the forms around them (float times, a flow's row span, file types read again) give what
# `normalize_record` gives, record after record.


def _read_as_normalized(compactor: Compactor, record: dict[str, Any]) -> float:
    """The item's time, after `_check` proved the item agrees with `normalize_record`."""
    assert _check(record, compactor), record
    item = compactor.compact(record)
    assert item is not None
    return item.time


def test_a_time_in_seconds_as_a_float_is_taken_as_it_is() -> None:
    compactor = Compactor(RULES, False)
    assert _read_as_normalized(compactor, {**TIDY["file_create"], "_time": BASE + 0.25}) == BASE + 0.25


def test_a_float_time_outside_the_seconds_fast_path_is_read_as_normalization_reads_it() -> None:
    compactor = Compactor(RULES, False)
    in_ms = {**TIDY["file_create"], "_time": (BASE + 0.25) * 1000.0}
    assert _read_as_normalized(compactor, in_ms) == BASE + 0.25
    assert _read_as_normalized(compactor, {**TIDY["file_create"], "_time": -10.5}) == -10.5


FLOW_OF_A_SPAN = {  # 10.0.0.14: one row (d2), from BASE to BASE + 3600
    "activity": "retrieval",
    "platform": "android",
    "src_ip": "10.0.0.14",
    "dest": "cdn.example.com",
    "bytes_in": 100,
}


def test_a_flow_within_its_rows_span_is_read_compactly_each_time() -> None:
    compactor = Compactor(RULES, False)
    for time in (BASE + 10, BASE + 20):
        assert _check({**FLOW_OF_A_SPAN, "_time": time}, compactor)
        assert compactor.compact({**FLOW_OF_A_SPAN, "_time": time}).device_id == "d2"  # type: ignore[union-attr]


def test_a_flow_outside_its_rows_span_takes_the_full_path_after_one_within_it() -> None:
    compactor = Compactor(RULES, False)
    assert compactor.compact({**FLOW_OF_A_SPAN, "_time": BASE + 10}) is not None  # its row now known
    for time in (BASE - 1, BASE + 3601):
        record = {**FLOW_OF_A_SPAN, "_time": time}
        assert compactor.compact(record) is None
        with pytest.raises(InvalidEvent):
            normalize_record(record, TABLES)


BASELINED_LATER = {  # com.acme.notes: managed, no role; 10.0.0.5 baselined from BASE + 1500 (window 60)
    "activity": "retrieval",
    "platform": "ios",
    "device_id": "d3",
    "app_id": "com.acme.notes",
    "dest": "10.0.0.5",
    "bytes_in": 100,
}


def test_a_retrieval_suppressed_once_is_suppressed_at_every_later_time() -> None:
    compactor = Compactor(RULES, False)
    for time in (BASE + 2000, BASE + 3000, BASE + 1560):
        assert _check({**BASELINED_LATER, "_time": time}, compactor)  # suppressed: read compactly


def test_a_retrieval_suppressed_later_is_still_a_candidate_before_then() -> None:
    compactor = Compactor(RULES, False)
    assert compactor.compact({**BASELINED_LATER, "_time": BASE + 2000}) is not None
    earlier = {**BASELINED_LATER, "_time": BASE + 1559}
    assert compactor.compact(earlier) is None  # a retrieval-only candidate: read in full
    event, _ = normalize_record(earlier, TABLES)
    assert RULES.retrieval_suppression(event) is None


def test_a_benign_file_type_read_twice_is_clean_both_times() -> None:
    compactor = Compactor(RULES, False)
    record = {**TIDY["file_create"], "file_type": " Text/Plain; charset=utf-8"}
    assert _check(record, compactor) and _check(record, compactor)


def test_a_risky_file_type_read_twice_is_an_anchor_both_times() -> None:
    compactor = Compactor(RULES, False)
    record = {**TIDY["file_create"], "file_type": " Application/ZIP; charset=binary"}
    assert compactor.compact(record) is None and compactor.compact(record) is None
    event, _ = normalize_record(record, TABLES)
    assert RULES.risk_class(event) is not None


def test_a_memo_at_its_limit_starts_over_and_keeps_the_new_value() -> None:
    memo = {str(n): n for n in range(MEMO_LIMIT)}
    assert _remember(memo, "new", 1) == 1
    assert memo == {"new": 1}


def test_a_memo_below_its_limit_keeps_what_it_held() -> None:
    memo = {"old": 0}
    _remember(memo, "new", 1)
    assert memo == {"old": 0, "new": 1}
