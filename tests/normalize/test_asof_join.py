"""Android Management API usage logs: a DNS event names the destination of the CONNECT events of
the same device and app to an address it returned (the as-of join), through `--raw` (Python),
the pipeline model of the rendered macro, and the offline SPL executor (tests/executor) over the
rendered props and macros; and the usage logs' times with 0, 3, 6 or 9 fraction digits read the
same in props and in Python."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mobile_ingress.engine.timeparse import parse_time
from mobile_ingress.normalize import Normalized, apply
from mobile_ingress.normalize import render as r
from mobile_ingress.normalize.model import CONTRACT_FIELDS

from . import pipeline
from .support import ROOT, mappings

ST = "mdm:amapi:usagelog"
DEVICE = "enterprises/LC04abcd12/devices/3a00000000000001"
OTHER_DEVICE = "enterprises/LC04abcd12/devices/3a00000000000002"
APP = "com.example.sideloaded1"
T0 = 1795852200  # 2026-11-28T07:50:00Z


def stamp(seconds: float, digits: int = 3) -> str:
    from datetime import datetime, timezone

    whole = int(seconds)
    text = datetime.fromtimestamp(whole, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        fraction = f"{seconds - whole:.9f}"[2:]
        text += "." + fraction[:digits]
    return text + "Z"


def dns(event_id: str, at: float, host: str, ips: list[str], device: str = DEVICE, app: str = APP) -> dict:
    return {
        "eventId": event_id,
        "eventTime": stamp(at),
        "eventType": "DNS",
        "dnsEvent": {"hostname": host, "ipAddresses": ips, "totalIpAddressesReturned": str(len(ips)),
                     "packageName": app},
        "device": device,
        "user": "enterprises/LC04abcd12/users/1000000001",
    }  # fmt: skip


def connect(event_id: str, at: float, ip: str, device: str = DEVICE, app: str | None = APP) -> dict:
    event: dict = {
        "eventId": event_id,
        "eventTime": stamp(at),
        "eventType": "CONNECT",
        "connectEvent": {"destinationIpAddress": ip, "destinationPort": 443},
        "device": device,
        "user": "enterprises/LC04abcd12/users/1000000001",
    }
    if app is not None:
        event["connectEvent"]["packageName"] = app
    return event


# The odd records: each CONNECT's expected (dest, dest_corroborated).
CASES = {
    "named by an earlier lookup": (
        [dns("d1", T0, "payload.example.net", ["203.0.113.7"]), connect("c1", T0 + 5, "203.0.113.7")],
        ("payload.example.net", "true"),
    ),
    "a lookup after the connection names nothing": (
        [connect("c1", T0, "203.0.113.7"), dns("d1", T0 + 5, "payload.example.net", ["203.0.113.7"])],
        ("203.0.113.7", None),
    ),
    "the latest earlier lookup wins": (
        [dns("d1", T0, "old.example.net", ["203.0.113.7"]),
         dns("d2", T0 + 3, "new.example.net", ["203.0.113.7"]),
         connect("c1", T0 + 5, "203.0.113.7")],
        ("new.example.net", "true"),
    ),
    "any address of the answer": (
        [dns("d1", T0, "cdn.example.net", ["198.51.100.1", "203.0.113.7", "198.51.100.2"]),
         connect("c1", T0 + 5, "203.0.113.7")],
        ("cdn.example.net", "true"),
    ),
    "another app's lookup names nothing": (
        [dns("d1", T0, "payload.example.net", ["203.0.113.7"], app="com.other.app"),
         connect("c1", T0 + 5, "203.0.113.7")],
        ("203.0.113.7", None),
    ),
    "another device's lookup names nothing": (
        [dns("d1", T0, "payload.example.net", ["203.0.113.7"], device=OTHER_DEVICE),
         connect("c1", T0 + 5, "203.0.113.7")],
        ("203.0.113.7", None),
    ),
    "another address names nothing": (
        [dns("d1", T0, "payload.example.net", ["203.0.113.8"]), connect("c1", T0 + 5, "203.0.113.7")],
        ("203.0.113.7", None),
    ),
    "in the same second, the greatest name": (
        [dns("d1", T0, "b.example.net", ["203.0.113.7"]),
         dns("d2", T0 + 0.2, "a.example.net", ["203.0.113.7"]),
         connect("c1", T0 + 0.5, "203.0.113.7")],
        ("b.example.net", "true"),
    ),
}  # fmt: skip


def events_of(records: list[dict]) -> list[tuple[str, dict[str, object]]]:
    return [(ST, record) for record in records]


def connects(found: dict[str, dict[str, object]], records: list[dict]) -> list[tuple[object, object]]:
    serials = [f"{ST}:{n}" for n, rec in enumerate(records, start=1) if rec["eventType"] == "CONNECT"]
    return [(found[s]["dest"], found[s]["dest_corroborated"]) for s in serials]


@pytest.mark.parametrize("case", list(CASES))
def test_a_connection_is_named_by_the_lookup_that_returned_its_address_in_raw(
    case: str, tmp_path: Path
) -> None:
    records, expected = CASES[case]
    assert connects(pipeline.python(events_of(records), tmp_path), records) == [expected]


@pytest.mark.parametrize("case", list(CASES))
def test_the_rendered_macro_names_it_alike_in_the_pipeline_model(case: str) -> None:
    records, expected = CASES[case]
    assert connects(pipeline.splunk(events_of(records)), records) == [expected]


def _executor(records: list[dict], earliest: float | None = None) -> dict[str, dict[str, object]]:
    from tests.executor import IndexedEvent, Splunk

    with Splunk(ROOT / "package") as splunk:
        splunk.add_events(
            IndexedEvent("mobile", ST, serial, pipeline.HOST, json.dumps(record), indextime=T0 + 3600)
            for serial, _, record in pipeline.serials(events_of(records))
        )
        results = splunk.search(
            f"search index=mobile | `{r.NORMALIZE_MACRO}`",
            now=T0 + 3600,
            earliest=None if earliest is None else str(earliest),
            latest=None if earliest is None else str(T0 + 3600),
        )
    assert not results.texts("ERROR"), results.texts("ERROR")
    return {
        str(row["source"]): {name: pipeline.comparable(row.get(name)) for name in CONTRACT_FIELDS}
        for row in results.rows
    }


@pytest.mark.parametrize("case", list(CASES))
def test_the_spl_executor_names_it_alike(case: str, tmp_path: Path) -> None:
    records, _ = CASES[case]
    assert _executor(records) == pipeline.python(events_of(records), tmp_path)


def test_the_spl_executor_runs_the_samples_to_what_raw_gives(tmp_path: Path) -> None:
    records = [
        json.loads(line) for line in (ROOT / "samples" / "mdm_amapi_usagelog.json").read_text().splitlines()
    ]
    assert _executor(records) == pipeline.python(events_of(records), tmp_path)


def test_a_lookup_before_the_searchs_time_range_names_nothing_in_splunk_but_does_in_raw(
    tmp_path: Path,
) -> None:
    # Splunk joins within the events its search reads; --raw reads every event of its inputs.
    records, expected = CASES["named by an earlier lookup"]
    in_splunk = _executor(records, earliest=T0 + 1)
    assert connects(in_splunk, records) == [("203.0.113.7", None)]
    assert connects(pipeline.python(events_of(records), tmp_path), records) == [expected]


def test_the_macros_sources_carry_no_activity_and_leave_the_results() -> None:
    records, _ = CASES["named by an earlier lookup"]
    assert set(pipeline.splunk(events_of(records))) == {f"{ST}:2"}


# ------------------------------------------------------------------ 0, 3, 6 or 9 fraction digits

TIMES = ["2026-11-28T07:51:00Z", "2026-11-28T07:51:00.123Z", "2026-11-28T07:51:00.123456Z",
         "2026-11-28T07:51:00.123456789Z"]  # fmt: skip


@pytest.mark.parametrize("text", TIMES)
def test_a_usage_log_time_reads_the_same_in_props_and_in_raw(text: str) -> None:
    from tests.executor import IndexedEvent, Splunk

    record = dict(connect("c1", T0, "203.0.113.7"), eventTime=text)
    with Splunk(ROOT / "package") as splunk:
        splunk.add_events([IndexedEvent("mobile", ST, "s", "h", json.dumps(record), indextime=T0 + 99)])
        (row,) = splunk.search("search index=mobile", now=T0 + 100).rows
    result = apply(mappings()[ST], record)
    assert isinstance(result, Normalized)
    assert float(row["_time"]) == parse_time(result.fields["_time"]) == T0 + 60


def test_every_fraction_gives_one_time() -> None:
    times = set()
    for text in TIMES:
        result = apply(mappings()[ST], dict(connect("c1", T0, "203.0.113.7"), eventTime=text))
        assert isinstance(result, Normalized)
        times.add(parse_time(result.fields["_time"]))
    assert times == {T0 + 60.0}


def test_a_format_without_a_zone_takes_utc_in_props() -> None:
    assert dict(pipeline.props()[ST])["TZ"] == "UTC"
