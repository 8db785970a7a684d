"""The fast reader (`detect --fast`, DuckDB) gives what the plain reader gives: the same findings,
tuning rows, skips, warnings and messages, on clean and on messy input (hypothesis, in bursts)."""

from __future__ import annotations

import json
import random
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mobile_ingress.cli import fastread
from mobile_ingress.cli.detect import Inputs, correlate
from mobile_ingress.engine import lookups as lookups_module
from mobile_ingress.engine.events import normalize_record
from mobile_ingress.engine.prefilter import Prefilter
from mobile_ingress.engine.rules import Rules
from mobile_ingress.engine.settings import Settings
from tests.engine.strategies import BASE, LOOKUPS, SETTINGS, fleets
from tests.engine.support import make_lookups

pytest.importorskip("duckdb")

CONFIG = Settings().with_values(SETTINGS)
INVENTORY = [
    {"device_id": "d1", "platform": "android", "ip": "10.0.0.11", "user": "", "first_seen": "",
     "last_seen": ""},
    {"device_id": "d3", "platform": "ios", "ip": "10.0.0.13", "user": "", "first_seen": "", "last_seen": ""},
    # two rows for one address: a flow from it is unresolved (skipped with that reason)
    {"device_id": "d2", "platform": "android", "ip": "10.0.0.12", "user": "", "first_seen": "",
     "last_seen": ""},
    {"device_id": "old", "platform": "android", "ip": "10.0.0.12", "user": "", "first_seen": "",
     "last_seen": str(BASE + 10_000)},
]  # fmt: skip
if hasattr(lookups_module, "INVENTORY_ATTRIBUTION_COLUMNS"):  # device attribution's lease spans
    # an address leased to a randomized MAC no MDM reports: a flow from it stays unresolved
    INVENTORY.append({"device_id": "", "platform": "", "ip": "10.0.0.15", "user": "", "first_seen": "",
                      "last_seen": "", "mac": "da:a1:19:00:00:01", "mac_randomized": "true"})  # fmt: skip
TABLES = make_lookups({**LOOKUPS, "device_inventory": INVENTORY})


def _run(
    path: Path, fast: bool, suppressed: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Any, int]:
    """Findings, tuning rows, the report, and how many lines the fast reader left unread."""
    with ExitStack() as stack:
        inputs = Inputs([str(path)], stack)
        if fast:
            inputs.use_fast_reader(CONFIG, TABLES, suppressed)
        detector, findings, tuning = correlate(inputs, CONFIG, TABLES, "auto", suppressed)
    unread = 0
    if inputs.fast is not None:
        plan = inputs.fast._plans.get(str(path))
        if plan is not None:
            rids = plan[0]
            unread = rids[-1] - (len(rids) - 1)
    return [f.to_dict() for f in findings], [f.to_dict() for f in tuning], detector.report, unread


def _same(lines: list[str], suppressed: bool) -> int:
    """Both readers over the same file; returns how many lines the fast reader left unread."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.ndjson"
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        plain = _run(path, fast=False, suppressed=suppressed)
        fast = _run(path, fast=True, suppressed=suppressed)
    assert fast[0] == plain[0]
    assert fast[1] == plain[1]
    p, f = plain[2], fast[2]
    assert (f.read, f.skipped, f.warnings, f.messages, f.dropped_messages) == (
        p.read, p.skipped, p.warnings, p.messages, p.dropped_messages,
    )  # fmt: skip
    assert f.kept + f.filtered == p.kept + p.filtered  # every valid event counted once
    return fast[3]


def _mess(event: dict[str, Any], how: str, rnd: random.Random, others: list[dict[str, Any]]) -> str | None:
    """One of the ways real input is untidy: each either changes nothing the engine sees, or makes
    a skip or a warning the fast reader must leave to Python."""
    e = dict(event)
    if how == "dup_id" and others:
        e["event_id"] = rnd.choice(others).get("event_id", "x")
    elif how == "ms":
        e["_time"] = int(e["_time"] * 1000)
    elif how == "text_time":
        e["_time"] = str(e["_time"])
    elif how == "iso":
        e["_time"] = "2023-11-14T22:13:20Z"
    elif how == "upper":
        e["activity"] = str(e["activity"]).upper()
    elif how == "bad_number":
        e["bytes_in" if e["activity"] == "retrieval" else "file_size"] = "lots"
    elif how == "bad_state":
        e["app_state"] = "sideways"
    elif how == "string_bool":
        e["device_locked"] = "TRUE"
    elif how == "flow":
        e.pop("device_id", None)
        e.pop("platform", None)
        e["src_ip"] = rnd.choice(["10.0.0.11", "10.0.0.12", "10.0.0.13", "10.0.0.15", "10.9.9.9"])
    elif how == "loopback":
        e["dest_ip"] = "127.0.0.1"
    elif how == "number_id":
        e["event_id"] = 7
    elif how == "not_json":
        return json.dumps(e)[:-1]
    elif how == "not_object":
        return "[1, 2]"
    elif how == "blank":
        return "   "
    elif how == "no_app_path":
        e.pop("app_id", None)
    elif how == "dup_key":  # DuckDB took the first of a repeated key, json.loads the last
        other = rnd.choice(["state", "file_create", "retrieval"])
        return json.dumps(e)[:-1] + f', "activity": "{other}"}}'
    elif how == "dup_key_nested":  # a repeated key inside a value is no field of the record
        return json.dumps(e)[:-1] + ', "extra": {"k": 1, "k": 2}}'
    elif how == "deep":
        return json.dumps(e)[:-1] + ', "extra": ' + "[" * 5000 + "]" * 5000 + "}"
    elif how == "huge_int":
        return (
            json.dumps(e)[:-1] + ', "bytes_in": ' + "9" * 400 + "}"
            if "bytes_in" not in e
            else json.dumps({**e, "bytes_in": 0}).replace('"bytes_in": 0', '"bytes_in": ' + "9" * 400)
        )
    elif how == "far_time":
        e["_time"] = 1e300
    elif how == "huge_bytes":
        e["bytes_in" if e["activity"] == "retrieval" else "file_size"] = 1.5e308
    elif how == "big_port":
        e["dest_port"] = 70000
    elif how == "long_label":
        e["dest"] = "a" * 64 + ".example"
    elif how == "star_dest":
        e["dest"] = "*"
    elif how == "uncorroborated":
        e["dest_corroborated"] = rnd.choice([False, "false", "maybe", True])
        e["dest"] = "play.googleapis.com"
    return json.dumps(e)


MESSES = ["dup_id", "ms", "text_time", "iso", "upper", "bad_number", "bad_state", "string_bool", "flow",
          "loopback", "number_id", "not_json", "not_object", "blank", "no_app_path", "dup_key",
          "dup_key_nested", "deep", "huge_int", "far_time", "huge_bytes", "big_port", "long_label",
          "star_dest", "uncorroborated"]  # fmt: skip
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(fleets(max_size=80), st.booleans(), st.booleans(), st.randoms(use_true_random=False), st.booleans())
def test_the_fast_reader_gives_the_same_findings_as_the_plain_reader(
    events: list[dict[str, Any]], ascending: bool, suppressed: bool, rnd: Any, spread: bool
) -> None:
    if spread:  # times anywhere in an hour: every distance to an anchor, not only within bursts
        for event in events:
            event["_time"] = BASE + rnd.randint(0, 3600)
    if ascending:
        events = sorted(events, key=lambda e: e["_time"])
    _same([json.dumps(e) for e in events], suppressed)


@PROPERTY
@given(
    fleets(max_size=80, repeated_ids=True), st.randoms(use_true_random=False), st.booleans(), st.booleans()
)
def test_the_fast_reader_reports_the_same_skips_and_warnings_on_untidy_input(
    events: list[dict[str, Any]], rnd: Any, ascending: bool, suppressed: bool
) -> None:
    if ascending:
        events = sorted(events, key=lambda e: e["_time"])
    lines = []
    for event in events:
        how = rnd.choice(MESSES) if rnd.random() < 0.2 else None
        line = json.dumps(event) if how is None else _mess(event, how, rnd, events)
        if line is not None:
            lines.append(line)
    _same(lines, suppressed)


@pytest.mark.parametrize(("first", "last"), [("file_create", "state"), ("state", "file_create")])
def test_both_readers_refuse_a_record_with_a_repeated_key(tmp_path: Path, first: str, last: str) -> None:
    """One finding against none before (--fast took the first `activity`, the plain reader the
    last): now both refuse the record, with the same message, whichever value comes first."""
    base = {"platform": "android", "device_id": "d1", "app_id": "com.flash.pro"}
    far = [json.dumps({**base, "_time": BASE + 5000 + i, "activity": "state", "event_id": f"s{i}"})
           for i in range(50)]  # fmt: skip
    retrieval = json.dumps({**base, "_time": BASE, "activity": "retrieval", "url": "https://evil.example/p.dex",
                            "bytes_in": 20000, "event_id": "r1"})  # fmt: skip
    staged = json.dumps({**base, "_time": BASE + 5, "activity": first, "event_id": "f1",
                         "file_path": "/data/data/com.flash.pro/files/p.dex"})  # fmt: skip
    staged = staged[:-1] + f', "activity": "{last}"}}'
    path = tmp_path / "e.ndjson"
    path.write_text("".join(line + "\n" for line in [retrieval, staged, *far]), encoding="utf-8")
    plain, fast = _run(path, fast=False, suppressed=False), _run(path, fast=True, suppressed=False)
    assert plain[0] == fast[0] == []
    assert plain[2].skipped == fast[2].skipped and sum(plain[2].skipped.values()) == 1
    assert plain[2].messages == fast[2].messages
    assert any("duplicate key 'activity'" in m for m in fast[2].messages)


@pytest.mark.parametrize("load_method", ["dexclassloader", "webview"])
def test_a_cached_file_loaded_in_process_keeps_its_retrieval(tmp_path: Path, load_method: str) -> None:
    """An allowed path never covers a file then loaded in-process: such a file anchors its
    neighbourhood, so its retrieval is read (dexclassloader: one finding); a webview load leaves the
    path in force (no finding, and the lines may be left unread)."""
    base = {"platform": "android", "device_id": "d1", "app_id": "com.flash.pro"}
    path = "/data/data/com.flash.pro/cache/okhttp/p.dex"
    lines = [json.dumps({**base, "_time": BASE + 5000 + i, "activity": "state", "event_id": f"s{i}"})
             for i in range(50)]  # fmt: skip
    lines[:0] = [
        json.dumps({**base, "_time": BASE, "activity": "retrieval", "url": "https://evil.example/p",
                    "bytes_in": 20000, "event_id": "r1"}),
        json.dumps({**base, "_time": BASE + 5, "activity": "file_create", "file_path": path,
                    "event_id": "f1"}),
        json.dumps({**base, "_time": BASE + 20, "activity": "load", "file_path": path,
                    "load_method": load_method, "event_id": "l1"}),
    ]  # fmt: skip
    findings_plain = _run_lines(tmp_path, lines, fast=False)
    findings_fast = _run_lines(tmp_path, lines, fast=True)
    assert findings_fast == findings_plain
    assert len(findings_fast) == (1 if load_method == "dexclassloader" else 0)


def _run_lines(tmp_path: Path, lines: list[str], fast: bool) -> list[dict[str, Any]]:
    path = tmp_path / "e.ndjson"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return _run(path, fast=fast, suppressed=False)[0]


def _bursts(devices: int, quiet_gap: int) -> list[str]:
    """A device with a staged file among many benign events, and devices with none."""
    lines = []
    for d in range(devices):
        for i in range(40):
            t = BASE + i * quiet_gap
            lines.append(json.dumps({"_time": t, "activity": "state", "platform": "android",
                                     "device_id": f"d{d}", "app_id": "com.notes", "app_state": "foreground",
                                     "event_id": f"s{d}-{i}"}))  # fmt: skip
            lines.append(json.dumps({"_time": t + 1, "activity": "retrieval", "platform": "android",
                                     "device_id": f"d{d}", "app_id": "com.notes",
                                     "url": "https://news.example/a.json", "bytes_in": 20000,
                                     "event_id": f"r{d}-{i}"}))  # fmt: skip
    lines.append(json.dumps({"_time": BASE + 20 * quiet_gap + 2, "activity": "file_create",
                             "platform": "android", "device_id": "d0", "app_id": "com.notes",
                             "file_path": "/data/data/com.notes/files/p.dex", "file_size": 20000,
                             "event_id": "f0"}))  # fmt: skip
    return sorted(lines, key=lambda line: json.loads(line)["_time"])


def test_lines_far_from_every_staged_file_are_left_unread() -> None:
    unread = _same(_bursts(devices=3, quiet_gap=1000), suppressed=False)
    assert unread > 150  # of 241 lines: all but the file's neighbourhood and a context setter or two


def test_lines_near_a_staged_file_are_all_read() -> None:
    # Everything within one reach of the file: nothing may be left out.
    lines = _bursts(devices=1, quiet_gap=5)
    assert _same(lines, suppressed=False) == 0


def test_a_file_that_is_not_ndjson_is_read_plainly(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("_time,activity,platform,device_id\n1700000000,state,android,d1\n", encoding="utf-8")
    reader = fastread.FastReader(Prefilter.build(Rules(TABLES, CONFIG)))
    raws = list(reader.read(str(path)))
    assert [r.where for r in raws] == [f"{path}:2"] and raws[0].irrelevant == 0


def test_the_vectorized_filter_is_rendered_from_the_declaration() -> None:
    prefilter = Prefilter.build(Rules(TABLES, CONFIG))
    query = fastread.render_query(prefilter)
    assert "\\.dex" in query  # a shipped risk pattern, as a regex
    assert str(prefilter.neighbourhood()["reach_seconds"]) in query


def test_a_risk_pattern_added_to_the_lookup_appears_in_the_rendered_filter() -> None:
    rows = [{"platform": "android", "field": "file_name", "pattern": "*.zzq", "risk_class": "script"}]
    tables = make_lookups({**LOOKUPS, "file_risk_patterns": rows})
    query = fastread.render_query(Prefilter.build(Rules(tables, CONFIG)))
    assert "zzq" in query and "\\.dex" not in query


@settings(max_examples=200, deadline=None)
@given(fleets(max_size=30))
def test_event_content_is_equal_exactly_when_the_canonical_json_without_event_id_is(
    events: list[dict[str, Any]],
) -> None:
    copies = [{**e, "event_id": "copy"} for e in events[:5]]  # identical content, another id
    normalized = [normalize_record(e, TABLES)[0] for e in events + copies]
    for a in normalized:
        for b in normalized:
            da, db = a.to_dict(), b.to_dict()
            da.pop("event_id", None)
            db.pop("event_id", None)
            same_json = json.dumps(da, sort_keys=True) == json.dumps(db, sort_keys=True)
            assert (a.content == b.content) == same_json
