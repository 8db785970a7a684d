"""The prefilter's three renderings against each other on the same records.

The prefilter is one typed declaration (engine/prefilter.py: `Prefilter.describe()`, a
`Declaration`, and `neighbourhood()`, a `Neighbourhood`), rendered as
- Python: `Prefilter.matters`, applied by the engine to every normalized event;
- SPL: `prefilter_spl` (package/bin/mobile_ingress_splunk/prefilter_spl.py), the base-search
  filter the indexers apply, evaluated here with the offline executor (tests/executor): its JSON
  extraction (`jsonflat.flatten_raw`) and its search-expression matcher, or a whole search;
- SQL: the fast reader's DuckDB query (cli/fastread.py), run on an NDJSON file.

A record the Python prefilter keeps must be kept by the SPL and (where anything could make it
matter) by the SQL. Where a rendering keeps more, that is deliberate and says why:
- SPL keeps every retrieval (dropping one needs host, suffix, CIDR and app matching) and a
  `file_create` without `file_name` (the engine then uses the basename of `file_path`), and its
  wildcards are looser than the engine's globs;
- SQL is not a per-event filter but the neighbourhood rule: beside an anchor it keeps every line
  (the engine applies `matters` after parsing, so it costs only parsing); alone on its device, it
  keeps only an anchor (a staged file that may be risky, an iOS retrieval that may be a finding on
  its own), so an event the prefilter keeps but nothing could make part of a finding is left out,
  which tests/cli/test_fast_reader.py proves never changes the findings.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from mobile_ingress.engine.errors import InvalidEvent
from mobile_ingress.engine.events import normalize_record
from mobile_ingress.engine.prefilter import Declaration, Neighbourhood, Prefilter
from mobile_ingress.engine.rules import Rules
from mobile_ingress.engine.settings import Settings
from tests.engine.strategies import BASE, LOOKUPS, SETTINGS, fleets
from tests.engine.support import make_lookups
from tests.executor.jsonflat import flatten_raw
from tests.executor.searchexpr import compile_search
from tests.executor.support import T0, json_event, splunk_with

sys.dont_write_bytecode = True  # no __pycache__ in package/bin: the build copies that folder as is
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "package" / "bin"))
from mobile_ingress_splunk.prefilter_spl import prefilter_spl  # noqa: E402  (the app's bin/, on the path above)

pytest.importorskip("duckdb")
from mobile_ingress.cli.fastread import FastReader  # noqa: E402  (needs duckdb)

CONFIG = Settings().with_values(SETTINGS)
TABLES = make_lookups(LOOKUPS)
PREFILTER = Prefilter.build(Rules(TABLES, CONFIG))
SPL = prefilter_spl(PREFILTER.describe())
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ANDROID_APP = "/data/data/com.flash.pro/files"
IOS_APP = "/private/var/mobile/Containers/Data/Application/U-com.acme.notes/Library/Caches"


# ------------------------------------------------------------------------------- the renderings


def python_keeps(record: dict[str, Any]) -> bool | None:
    """`Prefilter.matters` on the normalized record; None when it is skipped (no rendering's
    concern: each reader reports the skip) or warns (the SQL then keeps the line in doubt)."""
    try:
        event, warnings = normalize_record(record, TABLES)
    except InvalidEvent:
        return None
    return None if warnings else PREFILTER.matters(event)


def spl_keeps(record: dict[str, Any]) -> bool:
    """The rendered filter over the fields Splunk extracts from the record's JSON."""
    _, matches = compile_search(SPL)
    return bool(matches(flatten_raw(json.dumps(record))))


def anchor_beside(record: dict[str, Any], tag: str) -> dict[str, Any]:
    """A staged risky file on the record's device a second after it: an anchor within reach."""
    ios = record.get("platform") == "ios"
    return {
        "_time": record["_time"] + 1,
        "activity": "file_create",
        "platform": "ios" if ios else "android",
        "device_id": record["device_id"],
        "app_id": "com.acme.notes" if ios else "com.flash.pro",
        "file_path": f"{IOS_APP}/anchor.dylib" if ios else f"{ANDROID_APP}/anchor.dex",
        "event_id": f"anchor-{tag}",
    }


def sql_kept(records: Sequence[dict[str, Any]], folder: Path, beside_anchor: bool) -> list[bool]:
    """Which records the fast reader's query keeps, each on a device of its own (alone, or with an
    anchor beside it)."""
    lines = []
    for index, record in enumerate(records):
        own = {**record, "device_id": f"{record['device_id']}-{index}", "event_id": f"rec-{index}"}
        lines.append(own)
        if beside_anchor:
            lines.append(anchor_beside(own, str(index)))
    path = folder / f"records-{'beside' if beside_anchor else 'alone'}.ndjson"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    reader = FastReader(PREFILTER)
    kept = {str(raw.record.get("event_id")) for raw in reader.read(str(path)) if raw.record is not None}
    assert reader._plans[str(path)] is not None, "the fast reader read the file plainly: nothing compared"
    return [f"rec-{index}" in kept for index in range(len(records))]


def present(events: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The records without absent (None) fields, as a sensor writes them."""
    for event in events:
        yield {k: v for k, v in event.items() if v is not None}


# ------------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Case:
    name: str
    record: dict[str, Any]
    python: bool  # Prefilter.matters
    spl: bool
    sql_alone: bool
    why: str = ""  # where a rendering keeps what Python drops, or drops what Python keeps

    @property
    def full(self) -> dict[str, Any]:
        ios = self.record.get("platform") == "ios"
        return {"_time": BASE, "platform": "android", "device_id": "d3" if ios else "d1", **self.record}


NOT_NEAR = "alone on its device nothing could make it part of a finding: the neighbourhood rule"
CASES = [
    Case("a state event", {"activity": "state", "app_id": "com.notes", "app_state": "foreground"},
         True, True, False, NOT_NEAR),
    Case("an unpack", {"activity": "unpack", "app_id": "com.flash.pro", "file_path": f"{ANDROID_APP}/a.zip",
                       "target_path": f"{ANDROID_APP}/unz"}, True, True, False, NOT_NEAR),
    Case("an in-process load", {"activity": "load", "app_id": "com.flash.pro",
                                "file_path": f"{ANDROID_APP}/unz/p.dex", "load_method": "dexclassloader"},
         True, True, False, NOT_NEAR),
    Case("a handoff", {"activity": "handoff", "app_id": "com.flash.pro", "file_path": f"{ANDROID_APP}/a.apk",
                       "target_app": "com.android.packageinstaller"}, True, True, False, NOT_NEAR),
    Case("a risky staged file", {"activity": "file_create", "app_id": "com.flash.pro",
                                 "file_path": f"{ANDROID_APP}/p.dex", "file_name": "p.dex"},
         True, True, True),
    Case("a risky iOS staged file", {"activity": "file_create", "platform": "ios", "app_id": "com.acme.notes",
                                     "file_path": f"{IOS_APP}/x.dylib", "file_name": "x.dylib"},
         True, True, True),
    Case("a benign staged file", {"activity": "file_create", "app_id": "com.flash.pro",
                                  "file_path": f"{ANDROID_APP}/notes.txt", "file_name": "notes.txt",
                                  "file_type": "text/plain"}, False, False, False),
    Case("a benign staged file without file_name", {"activity": "file_create", "app_id": "com.flash.pro",
                                                    "file_path": f"{ANDROID_APP}/notes.txt"},
         False, True, False, "SPL keeps a file_create without file_name: the engine names it by its path"),
    Case("an opaque file below the byte threshold", {"activity": "file_create", "app_id": "com.flash.pro",
                                                     "file_path": f"{ANDROID_APP}/payload",
                                                     "file_name": "payload", "file_size": 2000},
         False, True, True, "SPL and SQL keep a name without an extension whatever its size (`<noext>`): "
         "the engine also asks for ingress_bytes_threshold bytes"),
    Case("a benign staged file without app_id", {"activity": "file_create", "file_name": "notes.txt",
                                                 "file_path": f"{ANDROID_APP}/notes.txt"},
         False, False, True, "SQL holds a file without app_id in doubt (it never derives the app from the "
         "path), and a staged file in doubt anchors"),
    Case("a benign iOS staged file", {"activity": "file_create", "platform": "ios",
                                      "app_id": "com.acme.notes", "file_path": f"{IOS_APP}/data.json",
                                      "file_name": "data.json"},
         False, False, False),
    Case("a benign staged file that sets context", {"activity": "file_create", "app_id": "com.flash.pro",
                                                    "file_path": f"{ANDROID_APP}/notes.txt",
                                                    "file_name": "notes.txt", "device_locked": True},
         True, True, False, NOT_NEAR),
    Case("an Android retrieval", {"activity": "retrieval", "app_id": "com.flash.pro",
                                  "url": "https://evil.example/p.dex", "bytes_in": 20000},
         True, True, False, NOT_NEAR + " (an Android retrieval is never a finding on its own)"),
    Case("a retrieval from an allowed destination", {"activity": "retrieval", "app_id": "com.flash.pro",
                                                     "url": "https://play.googleapis.com/p.apk"},
         False, True, False, "SPL keeps every retrieval: it cannot match hosts, suffixes, CIDRs and apps"),
    Case("an uncorroborated name of an allowed destination", {
        "activity": "retrieval", "app_id": "com.flash.pro", "dest": "play.googleapis.com",
        "dest_corroborated": False, "url": "https://play.googleapis.com/p.apk"},
         True, True, False, NOT_NEAR),
    Case("an iOS retrieval that may be a finding on its own", {
        "activity": "retrieval", "platform": "ios", "app_id": "com.acme.notes",
        "url": "https://evil.example/x.dylib", "bytes_in": 20000}, True, True, True),
    Case("an iOS retrieval from an allowed destination", {
        "activity": "retrieval", "platform": "ios", "app_id": "com.acme.notes", "dest": "play.googleapis.com",
        "url": "https://play.googleapis.com/x.dylib"},
         False, True, False, "SPL keeps every retrieval: it cannot match hosts, suffixes, CIDRs and apps"),
    Case("an iOS retrieval from an allowed destination named by its URL alone", {
        "activity": "retrieval", "platform": "ios", "app_id": "com.acme.notes",
        "url": "https://play.googleapis.com/x.dylib"},
         False, True, True, "SPL keeps every retrieval; SQL matches an exempting destination on `dest` "
         "alone (never the URL's host), so without `dest` the retrieval stays an anchor"),
]  # fmt: skip


@pytest.fixture(scope="module")
def spl_search_kept(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bool]:
    """The table's records indexed as JSON events and searched with the rendered filter, by the
    offline executor as Splunk would (KV_MODE=json extraction, then the base search)."""
    events = [
        json_event(T0 + index, **{k: v for k, v in case.full.items() if k != "_time"}, case=case.name)
        for index, case in enumerate(CASES)
    ]
    with splunk_with(tmp_path_factory.mktemp("spl"), events) as sp:
        rows = sp.search(f"search index=main sourcetype=json:test {SPL}", now=T0 + 3600).rows
    kept = {str(row["case"]) for row in rows}
    return {case.name: case.name in kept for case in CASES}


@pytest.fixture(scope="module")
def sql_table(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bool, bool]]:
    folder = tmp_path_factory.mktemp("sql")
    records = [case.full for case in CASES]
    alone = sql_kept(records, folder, beside_anchor=False)
    beside = sql_kept(records, folder, beside_anchor=True)
    return {case.name: (a, b) for case, a, b in zip(CASES, alone, beside)}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_python_prefilter_decides_the_table_as_stated(case: Case) -> None:
    assert python_keeps(case.full) is case.python


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_spl_rendering_searched_by_the_executor_decides_the_table_as_stated(
    case: Case, spl_search_kept: dict[str, bool]
) -> None:
    assert spl_search_kept[case.name] is case.spl
    if case.python:
        assert case.spl, "the SPL rendering may never drop what the engine keeps"
    elif case.spl:
        assert case.why, "where SPL is looser the table says why"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_sql_rendering_alone_on_its_device_keeps_only_anchors(
    case: Case, sql_table: dict[str, tuple[bool, bool]]
) -> None:
    alone, _ = sql_table[case.name]
    assert alone is case.sql_alone
    if alone != case.python:
        assert case.why, "where SQL and the prefilter differ the table says why"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_sql_rendering_beside_an_anchor_keeps_every_line(
    case: Case, sql_table: dict[str, tuple[bool, bool]]
) -> None:
    """Looser than the prefilter where it drops: the engine applies `matters` after parsing."""
    _, beside = sql_table[case.name]
    assert beside


def test_the_table_has_records_each_rendering_keeps_and_drops() -> None:
    """Not vacuous: every rendering both keeps and drops something here."""
    for column in ("python", "spl", "sql_alone"):
        values = {getattr(case, column) for case in CASES}
        assert values == {True, False}, column


# ------------------------------------------------------------------------------- properties


@PROPERTY
@given(fleets(max_size=40))
def test_every_record_the_python_prefilter_keeps_the_spl_rendering_keeps(
    events: list[dict[str, Any]],
) -> None:
    for record in present(events):
        if python_keeps(record):
            assert spl_keeps(record), record


@PROPERTY
@given(fleets(max_size=40))
def test_a_record_the_python_prefilter_drops_the_spl_rendering_drops_unless_documented_looser(
    events: list[dict[str, Any]],
) -> None:
    """Dropped by Python, kept by SPL only for the documented reasons: a retrieval, or a
    `file_create` without `file_name` (these fleets never set one on a staged file)."""
    for record in present(events):
        if python_keeps(record) is False and spl_keeps(record):
            assert record["activity"] == "retrieval" or "file_name" not in record, record


@PROPERTY
@given(fleets(max_size=40))
def test_every_record_the_python_prefilter_keeps_the_sql_rendering_keeps_beside_an_anchor(
    events: list[dict[str, Any]],
) -> None:
    records = list(present(events))
    with tempfile.TemporaryDirectory(prefix="prefilter-renderings-") as folder:
        kept = sql_kept(records, Path(folder), beside_anchor=True)
    for record, sql in zip(records, kept):
        if python_keeps(record):
            assert sql, record


@PROPERTY
@given(fleets(max_size=40))
def test_a_record_the_python_prefilter_drops_the_sql_rendering_drops_alone_unless_documented_looser(
    events: list[dict[str, Any]],
) -> None:
    """Alone on its device the SQL keeps only anchors (and lines in doubt, which Python reads), and
    an anchor is something the prefilter keeps, except where the SQL is documented looser."""
    records = list(present(events))
    with tempfile.TemporaryDirectory(prefix="prefilter-renderings-") as folder:
        kept = sql_kept(records, Path(folder), beside_anchor=False)
    for record, sql in zip(records, kept):
        if python_keeps(record) is False and sql:
            assert sql_looser_alone(record), record


def sql_looser_alone(record: dict[str, Any]) -> str | None:
    """Why the SQL keeps alone a clean line the prefilter drops, or None.
    - It matches an exempting destination on `dest` only (never the URL's host): an iOS retrieval
      without `dest` stays an anchor.
    - `<noext>` (a name with no dot after its first character) may be risky whatever the file's
      size: the engine also asks for `ingress_bytes_threshold` bytes, which the SQL does not.
    - A file without `app_id` is in doubt (the SQL never derives the app from the path), and a
      staged file in doubt anchors."""
    if record["activity"] == "retrieval" and "dest" not in record:
        return "exemptions match on dest alone"
    if record["activity"] == "file_create" and "app_id" not in record:
        return "in doubt: no app_id"
    name = str(record.get("file_name") or str(record.get("file_path", "")).rsplit("/", 1)[-1])
    if record["activity"] == "file_create" and "." not in name[1:]:
        return "<noext> whatever the size"
    return None


def test_the_declaration_is_typed_data() -> None:
    """One declaration, typed: the SPL and SQL renderers read these structures, not loose dicts."""
    assert isinstance(PREFILTER.describe(), Declaration)
    assert isinstance(PREFILTER.neighbourhood(), Neighbourhood)
    assert PREFILTER.neighbourhood().reach_seconds == CONFIG.neighbourhood_reach


def test_the_declaration_reads_as_data_by_field_name() -> None:
    declaration = PREFILTER.describe()
    assert declaration["context_fields"] == declaration.context_fields
    with pytest.raises(KeyError):
        declaration["no_such_field"]
