"""The flow joins through both paths: Splunk's (rendered props, then the rendered
`mobile_ingress_normalize` macro, modelled by spl.py and spl_search.py) and `detect --raw`'s.

A Zeek file joins the http.log request whose `resp_fuids` lists its `fuid`; an EVE fileinfo joins
the http event of its flow and transaction (`flow_id`, `tx_id`). Keep-alive connections, where one
connection carries several requests, are where a join by connection goes wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobile_ingress.normalize import render as r
from mobile_ingress.normalize.model import CONTRACT_FIELDS

from . import pipeline, spl_search
from .pipeline import macros, props
from .support import mappings, sample_records

UID = "CkeepAlive0001"
T = 1795939300.0


def http(uri: str, fuids: list[str], ts: float, **extra: object) -> dict[str, object]:
    return {
        "ts": ts,
        "uid": UID,
        "id.orig_h": "10.20.30.40",
        "id.orig_p": 50100,
        "id.resp_h": "203.0.113.60",
        "id.resp_p": 80,
        "method": "GET",
        "host": "cdn.keepalive.example",
        "uri": uri,
        "status_code": 200,
        "response_body_len": 150000,
        "resp_fuids": fuids,
        **extra,
    }


def zeek_file(fuid: str, ts: float, legacy: bool = False) -> dict[str, object]:
    record: dict[str, object] = {
        "ts": ts,
        "fuid": fuid,
        "source": "HTTP",
        "is_orig": False,
        "seen_bytes": 150000,
        "total_bytes": 150000,
        "mime_type": "application/vnd.android.package-archive",
    }
    if legacy:  # before Zeek 5.1: the connection as arrays, no uid
        record.update({"tx_hosts": ["203.0.113.60"], "rx_hosts": ["10.20.30.40"], "conn_uids": [UID]})
    else:
        record.update({"uid": UID, "id.orig_h": "10.20.30.40", "id.orig_p": 50100})
        record.update({"id.resp_h": "203.0.113.60", "id.resp_p": 80})
    return record


# Two requests on one connection, each carrying one file; the first request's file comes second.
KEEP_ALIVE = [
    ("bro:http:json", http("/b/second.apk", ["Fsecond"], T)),
    ("bro:http:json", http("/a/first.apk", ["Ffirst"], T + 1)),
    ("bro:files:json", zeek_file("Fsecond", T + 0.5)),
    ("bro:files:json", zeek_file("Ffirst", T + 1.5)),
]
LEGACY_KEEP_ALIVE = [
    ("bro:http:json", http("/b/second.apk", ["Fsecond"], T)),
    ("bro:http:json", http("/a/first.apk", ["Ffirst"], T + 1)),
    ("bro:files:json", zeek_file("Fsecond", T + 0.5, legacy=True)),
    ("bro:files:json", zeek_file("Ffirst", T + 1.5, legacy=True)),
]
URL = "http://cdn.keepalive.example"


@pytest.mark.parametrize("events", [KEEP_ALIVE, LEGACY_KEEP_ALIVE], ids=["zeek 5.1+", "before 5.1"])
def test_each_file_of_a_keep_alive_connection_gets_its_own_requests_url_in_splunk(
    events: list[tuple[str, dict[str, object]]],
) -> None:
    found = pipeline.splunk(events)
    assert {serial: fields["url"] for serial, fields in found.items()} == {
        "bro:files:json:1": f"{URL}/b/second.apk",
        "bro:files:json:2": f"{URL}/a/first.apk",
    }
    assert {fields["dest"] for fields in found.values()} == {"cdn.keepalive.example"}


@pytest.mark.parametrize("events", [KEEP_ALIVE, LEGACY_KEEP_ALIVE], ids=["zeek 5.1+", "before 5.1"])
def test_each_file_of_a_keep_alive_connection_gets_its_own_requests_url_in_raw(
    events: list[tuple[str, dict[str, object]]], tmp_path: Path
) -> None:
    found = pipeline.python(events, tmp_path)
    assert found["bro:files:json:1"]["url"] == f"{URL}/b/second.apk"
    assert found["bro:files:json:2"]["url"] == f"{URL}/a/first.apk"


def test_a_join_by_connection_would_give_both_files_the_first_url() -> None:
    # The defect this join fixes, shown on the same events: keyed by uid, eventstats values(url)
    # holds both URLs and each file takes the first in sort order.
    stanzas = {st: dict(stanza) for st, stanza in props().items()}
    stanzas["bro:http:json"]["EVAL-mobile_ingress_join_source"] = "\"zeek:\" . 'uid'"
    stanzas["bro:files:json"]["EVAL-mobile_ingress_join_target"] = (
        "if(isnotnull(case('is_orig'==\"false\", \"retrieval\")), \"zeek:\" . 'uid', null())"
    )
    found = pipeline.splunk(KEEP_ALIVE, stanzas)
    assert {fields["url"] for fields in found.values()} == {f"{URL}/a/first.apk"}


def test_a_file_no_request_lists_gets_no_url() -> None:
    events = [KEEP_ALIVE[0], ("bro:files:json", zeek_file("Forphan", T + 2))]
    found = pipeline.splunk(events)
    assert found["bro:files:json:1"]["url"] is None
    assert found["bro:files:json:1"]["dest_ip"] == "203.0.113.60"


def test_a_request_with_several_files_gives_each_its_url() -> None:
    events = [
        ("bro:http:json", http("/bundle.zip", ["Fpart1", "Fpart2"], T)),
        ("bro:files:json", zeek_file("Fpart2", T + 0.2)),
        ("bro:files:json", zeek_file("Fpart1", T + 0.4)),
    ]
    found = pipeline.splunk(events)
    assert [found[f"bro:files:json:{n}"]["url"] for n in (1, 2)] == [f"{URL}/bundle.zip"] * 2


# ------------------------------------------------------------------------------ Suricata


def eve_http(tx_id: int, url: str, ts: str) -> dict[str, object]:
    return {
        "timestamp": ts,
        "flow_id": 998877665544,
        "event_type": "http",
        "src_ip": "10.20.30.40",
        "src_port": 50200,
        "dest_ip": "203.0.113.70",
        "dest_port": 80,
        "proto": "TCP",
        "tx_id": tx_id,
        "http": {"hostname": "eve.keepalive.example", "url": url, "http_method": "GET", "length": 1000},
    }


def eve_file(tx_id: int, name: str, ts: str) -> dict[str, object]:
    """A fileinfo without its http object, so only the join can give its host and URL."""
    return {
        "timestamp": ts,
        "flow_id": 998877665544,
        "event_type": "fileinfo",
        "src_ip": "203.0.113.70",
        "src_port": 80,
        "dest_ip": "10.20.30.40",
        "dest_port": 50200,
        "proto": "TCP",
        "app_proto": "http",
        "fileinfo": {"filename": name, "size": 1000, "tx_id": tx_id, "state": "CLOSED"},
    }


EVE_KEEP_ALIVE = [
    ("suricata", eve_http(0, "/z/zeta.apk", "2026-11-29T08:01:40.000001+0000")),
    ("suricata", eve_http(1, "/a/alpha.apk", "2026-11-29T08:01:41.000001+0000")),
    ("suricata", eve_file(0, "/z/zeta.apk", "2026-11-29T08:01:40.500001+0000")),
    ("suricata", eve_file(1, "/a/alpha.apk", "2026-11-29T08:01:41.500001+0000")),
]
EVE_URL = "http://eve.keepalive.example"


def test_each_eve_file_of_one_flow_gets_its_transactions_url_in_splunk() -> None:
    found = pipeline.splunk(EVE_KEEP_ALIVE)
    assert {serial: fields["url"] for serial, fields in found.items()} == {
        "suricata:3": f"{EVE_URL}/z/zeta.apk",
        "suricata:4": f"{EVE_URL}/a/alpha.apk",
    }


def test_each_eve_file_of_one_flow_gets_its_transactions_url_in_raw(tmp_path: Path) -> None:
    found = pipeline.python(EVE_KEEP_ALIVE, tmp_path)
    assert found["suricata:3"]["url"] == f"{EVE_URL}/z/zeta.apk"
    assert found["suricata:4"]["url"] == f"{EVE_URL}/a/alpha.apk"


# TA-Suricata's props (github.com/anthonygtellez/TA-Suricata, default/props.conf) alias
# `dns.tx_id AS tx_id`: on an http event, which has no dns.tx_id, that removes tx_id. Splunk runs
# every app's FIELDALIAS before any EVAL.
TA_SURICATA_ALIAS = ("FIELDALIAS-suricata_dns", "dns.tx_id AS tx_id")


def _with_vendor_alias(join_source: str | None = None) -> dict[str, dict[str, str]]:
    stanzas = {st: dict(stanza) for st, stanza in props().items()}
    stanzas["suricata"] = {TA_SURICATA_ALIAS[0]: TA_SURICATA_ALIAS[1], **stanzas["suricata"]}
    if join_source is not None:
        stanzas["suricata"]["EVAL-mobile_ingress_join_source"] = join_source
    return stanzas


def test_the_eve_join_survives_ta_suricatas_tx_id_alias() -> None:
    found = pipeline.splunk(EVE_KEEP_ALIVE, _with_vendor_alias())
    urls = [found[f"suricata:{n}"]["url"] for n in (3, 4)]
    assert urls == [f"{EVE_URL}/z/zeta.apk", f"{EVE_URL}/a/alpha.apk"]


def test_reading_the_extracted_tx_id_would_lose_the_join_under_that_alias() -> None:
    extracted = "if('event_type'==\"http\", \"suricata:\" . 'flow_id' . \":\" . 'tx_id', null())"
    assert pipeline.splunk(EVE_KEEP_ALIVE, _with_vendor_alias())["suricata:3"]["url"] is not None
    found = pipeline.splunk(EVE_KEEP_ALIVE, _with_vendor_alias(extracted))
    assert [found[f"suricata:{n}"]["url"] for n in (3, 4)] == [None, None]


# ------------------------------------------------------------------- every sample, both paths


def _all_samples() -> list[tuple[str, dict[str, object]]]:
    return [(st, record) for st in sorted(mappings()) for record in sample_records(st)]


def test_normalize_gives_what_raw_gives_on_every_sample(tmp_path: Path) -> None:
    events = _all_samples()
    splunk, python = pipeline.splunk(events), pipeline.python(events, tmp_path)
    assert sorted(splunk) == sorted(python)
    for serial in python:
        assert splunk[serial] == python[serial], serial
    joined = [s for s in python if s.startswith("bro:files") and python[s]["url"] is not None]
    assert len(joined) == 2  # not vacuous: both files.log forms join their request


@pytest.mark.parametrize(
    "events", [KEEP_ALIVE, LEGACY_KEEP_ALIVE, EVE_KEEP_ALIVE], ids=["zeek", "legacy", "eve"]
)
def test_normalize_gives_what_raw_gives_on_keep_alive_connections(
    events: list[tuple[str, dict[str, object]]], tmp_path: Path
) -> None:
    assert pipeline.splunk(events) == pipeline.python(events, tmp_path)


def test_the_pipeline_model_refuses_spl_it_does_not_know() -> None:
    with pytest.raises(spl_search.UnknownSpl, match="command 'dedup' is not in the model"):
        spl_search.run("dedup x", [{"x": ["1"]}], {})
    with pytest.raises(spl_search.UnknownSpl, match="multivalue"):
        spl_search.run("eventstats values(a) AS b BY k", [{"k": ["1", "2"], "a": ["x"]}], {})
    with pytest.raises(spl_search.UnknownSpl, match="without k"):
        spl_search.run("mvexpand k", [{"a": ["x"]}], {})


def test_the_join_macro_keeps_events_without_a_key_through_mvexpand() -> None:
    rows = [{"activity": ["state"], "device_id": ["d1"]}]
    (row,) = spl_search.run(f"`{r.JOIN_MACRO}`", rows, macros())
    assert row == {"activity": ["state"], "device_id": ["d1"]}


# ------------------------------------------------------- the shared SPL executor (tests/executor)


def _executor_results(events: list[tuple[str, dict[str, object]]]) -> dict[str, dict[str, object]]:
    """The detection events after the rendered props and `mobile_ingress_normalize`, run by the
    offline SPL executor of tests/executor over the built app's confs (each event's `source` is
    its serial)."""
    import json

    from tests.executor import IndexedEvent, Splunk

    from .support import ROOT

    with Splunk(ROOT / "package") as splunk:
        splunk.add_events(
            IndexedEvent("main", sourcetype, serial, pipeline.HOST, json.dumps(record), indextime=T + 3600)
            for serial, sourcetype, record in pipeline.serials(events)
        )
        results = splunk.search(f"search index=main | `{r.NORMALIZE_MACRO}`", now=T + 3600)
    assert not results.texts("ERROR"), results.texts("ERROR")
    return {
        str(row["source"]): {name: pipeline.comparable(row.get(name)) for name in CONTRACT_FIELDS}
        for row in results.rows
    }


@pytest.mark.parametrize(
    "events",
    [_all_samples(), KEEP_ALIVE, LEGACY_KEEP_ALIVE, EVE_KEEP_ALIVE],
    ids=["samples", "zeek", "legacy", "eve"],
)
def test_the_spl_executor_runs_props_and_normalize_to_what_raw_gives(
    events: list[tuple[str, dict[str, object]]], tmp_path: Path
) -> None:
    assert _executor_results(events) == pipeline.python(events, tmp_path)
