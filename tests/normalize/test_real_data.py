"""Real Zeek and Suricata output (tests/data/real, with its provenance) through `--raw` and through
Splunk's path (the rendered props and `mobile_ingress_normalize`, in the pipeline model and in the
offline SPL executor): nothing crashes, every real HTTP file becomes a retrieval with the URL Zeek
links to it (`resp_fuids` to `fuid`), certificates are not retrievals, and the format gaps issue 14
found on real records are closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zeek_tsv_to_json  # tools/ (pytest's pythonpath)

from mobile_ingress.engine.timeparse import parse_time
from mobile_ingress.normalize import Normalized, Skip, apply
from mobile_ingress.normalize.model import CONTRACT_FIELDS

from . import pipeline
from .support import ROOT, mappings

REAL = ROOT / "tests" / "data" / "real"

ZEEK = {"conn": "bro:conn:json", "http": "bro:http:json", "files": "bro:files:json"}
ZEEK_SETS = ["zeek-docs/wfetch", "zeek-docs/chrome_updater", "zeek-docs/tm1t", "slips-test9"]


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def zeek_events(folder: str) -> list[tuple[str, dict[str, object]]]:
    events = []
    for log, sourcetype in ZEEK.items():
        path = REAL / folder / f"{log}.json"
        if path.exists():
            events += [(sourcetype, record) for record in records(path)]
    return events


def eve_events() -> list[tuple[str, dict[str, object]]]:
    return [("suricata", record) for record in records(REAL / "parsuri" / "eve.json")]


def fields_of(sourcetype: str, record: dict[str, object]) -> dict[str, object]:
    result = apply(mappings()[sourcetype], record, {"host": "sensor"})
    assert isinstance(result, Normalized), result
    return result.fields


def tsv_http() -> list[dict[str, object]]:
    path = REAL / "zeek-docs" / "tls_decryption" / "http.log"
    return list(zeek_tsv_to_json.convert(path.read_text(encoding="utf-8").splitlines()))


# ------------------------------------------------------------------- nothing crashes, both paths


@pytest.mark.parametrize("folder", ZEEK_SETS)
def test_real_zeek_logs_normalize_alike_in_splunk_and_raw(folder: str, tmp_path: Path) -> None:
    events = zeek_events(folder)
    assert pipeline.splunk(events) == pipeline.python(events, tmp_path)


def test_real_eve_normalizes_alike_in_splunk_and_raw(tmp_path: Path) -> None:
    assert pipeline.splunk(eve_events()) == pipeline.python(eve_events(), tmp_path)


def test_a_real_tsv_http_log_converts_and_maps_with_no_skip() -> None:
    for record in tsv_http():
        assert isinstance(apply(mappings()["bro:http:json"], record), Normalized)


# ------------------------------------------------------------- resp_fuids to fuid on real logs


@pytest.mark.parametrize("folder", ZEEK_SETS)
def test_each_real_http_file_gets_the_url_zeek_links_to_it(folder: str, tmp_path: Path) -> None:
    events = zeek_events(folder)
    linked = {}
    for sourcetype, record in events:
        if sourcetype == "bro:http:json":
            for fuid in record.get("resp_fuids", []):  # type: ignore[union-attr]
                linked[fuid] = f"http://{record['host']}{record['uri']}"
    found = pipeline.python(events, tmp_path)
    files = [r for st, r in events if st == "bro:files:json" and r["source"] == "HTTP"]
    assert files
    for number, record in enumerate((r for st, r in events if st == "bro:files:json"), start=1):
        if record["source"] == "HTTP":
            assert found[f"bro:files:json:{number}"]["url"] == linked[record["fuid"]], record["fuid"]


def test_the_six_files_of_one_real_keep_alive_connection_keep_their_five_urls(tmp_path: Path) -> None:
    events = [(st, r) for st, r in zeek_events("slips-test9") if "CRSXNH2L8T2k9Cc0Ok" in json.dumps(r)]
    urls = [fields["url"] for fields in pipeline.python(events, tmp_path).values()]
    # requests 2 and 5 fetched the same font; a join by the connection's uid would give one URL
    assert len(urls) == 6 and len(set(urls)) == 5


# --------------------------------------------------------------------- X.509 files: no retrieval


def test_the_certificates_files_log_lists_before_zeek_4_1_are_not_retrievals() -> None:
    ssl = [r for r in records(REAL / "slips-test9" / "files.json") if r["source"] == "SSL"]
    assert {r["mime_type"] for r in ssl} == {
        "application/x-x509-user-cert",
        "application/x-x509-ca-cert",
        "application/ocsp-response",
    }
    assert all("activity" not in fields_of("bro:files:json", r) for r in ssl)


def test_a_real_http_file_beside_them_stays_a_retrieval() -> None:
    http = [r for r in records(REAL / "slips-test9" / "files.json") if r["source"] == "HTTP"]
    assert all(fields_of("bro:files:json", r)["activity"] == "retrieval" for r in http)


def test_a_certificate_fetched_by_http_is_no_retrieval_either() -> None:
    (record,) = [r for r in records(REAL / "slips-test9" / "files.json") if r["source"] == "SSL"][:1]
    fetched = dict(record, source="HTTP")  # the same certificate, fetched by an AIA request
    assert "activity" not in fields_of("bro:files:json", fetched)


# ------------------------------------------------------------------------------ Zeek's time forms


def test_zeeks_iso8601_time_reads_as_the_same_instant_in_raw() -> None:
    record = records(REAL / "zeek-docs" / "chrome_updater" / "files.json")[0]
    assert record["ts"] == "2020-09-23T00:24:31.334435Z"
    assert parse_time(fields_of("bro:files:json", record)["_time"]) == pytest.approx(1600820671.334435)


def _indexed_time(sourcetype: str, settings: dict[str, str], raw: dict[str, object]) -> float:
    from tests.executor import IndexedEvent, Splunk

    with Splunk(ROOT / "package") as splunk:
        splunk.add_props("test:zeek", settings)
        splunk.add_events([IndexedEvent("main", "test:zeek", "s", "h", json.dumps(raw), indextime=5.0)])
        (row,) = splunk.search("search index=main", now=10.0).rows
    return float(row["_time"])


def _shipped(sourcetype: str) -> dict[str, str]:
    return dict(pipeline.props()[sourcetype])


def test_the_shipped_zeek_props_read_the_epoch_time() -> None:
    record = records(REAL / "zeek-docs" / "wfetch" / "files.json")[0]
    assert _indexed_time("bro:files:json", _shipped("bro:files:json"), record) == 1596820191.969902


def test_the_shipped_zeek_props_cannot_read_the_iso8601_time() -> None:
    # One TIME_FORMAT reads one form: the ISO 8601 time is not found, the index time stands in.
    record = records(REAL / "zeek-docs" / "chrome_updater" / "files.json")[0]
    assert _indexed_time("bro:files:json", _shipped("bro:files:json"), record) == 5.0


def test_the_props_docs_data_md_gives_for_iso8601_read_zeeks_iso_time() -> None:
    alternative = mappings()["bro:files:json"].timestamp.alternative
    assert alternative is not None
    settings = _shipped("bro:files:json")
    doc = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    block = doc.split("[bro:files:json]\n", 1)[1].split("```", 1)[0]
    settings.update(dict(line.split(" = ", 1) for line in block.splitlines() if " = " in line))
    assert settings["TIME_FORMAT"] == alternative.time_format
    record = records(REAL / "zeek-docs" / "chrome_updater" / "files.json")[0]
    assert _indexed_time("bro:files:json", settings, record) == pytest.approx(1600820671.334435)


# ------------------------------------------------------------------ keys written with underscores


def _underscored(record: dict[str, object]) -> dict[str, object]:
    return {key.replace(".", "_") if key.startswith("id.") else key: value for key, value in record.items()}


@pytest.mark.parametrize("log", ["conn", "http"])
def test_keys_written_with_underscores_give_the_same_fields(log: str) -> None:
    record = records(REAL / "zeek-docs" / "wfetch" / f"{log}.json")[0]
    dotted, underscored = fields_of(ZEEK[log], record), fields_of(ZEEK[log], _underscored(record))
    assert underscored == dotted
    assert (underscored["src_ip"], underscored["dest_ip"]) == ("192.168.4.37", "23.195.64.241")


def test_a_files_log_of_zeek_5_1_with_underscored_keys_gives_its_addresses() -> None:
    record = records(REAL / "zeek-docs" / "tm1t" / "files.json")[0]
    # the same file in Zeek 5.1's form (the connection's uid and id.*), keys as some shippers write them
    modern = {k: v for k, v in record.items() if k not in ("tx_hosts", "rx_hosts", "conn_uids")}
    modern.update({"uid": "C5bLoe2Mvxqhawzqqd", "id_orig_h": "192.168.4.76", "id_orig_p": 46378})
    modern.update({"id_resp_h": "31.3.245.133", "id_resp_p": 80})
    fields = fields_of("bro:files:json", modern)
    assert (fields["src_ip"], fields["dest_ip"], fields["dest_port"]) == ("192.168.4.76", "31.3.245.133", 80)


# ----------------------------------------------------------- the host name is the Host header's


@pytest.mark.parametrize("folder", ["zeek-docs/wfetch", "slips-test9"])
def test_a_zeek_http_retrieval_says_its_host_name_is_uncorroborated(folder: str, tmp_path: Path) -> None:
    found = pipeline.python(zeek_events(folder), tmp_path)
    files = [f for s, f in found.items() if s.startswith("bro:files:json")]
    assert files and all(f["dest_corroborated"] == "false" for f in files)


def test_a_suricata_http_retrieval_says_its_host_name_is_uncorroborated(tmp_path: Path) -> None:
    found = pipeline.python(eve_events(), tmp_path)
    assert found and all(f["dest_corroborated"] == "false" for f in found.values())


def test_a_zeek_file_of_another_protocol_makes_no_such_claim() -> None:
    record = dict(records(REAL / "zeek-docs" / "wfetch" / "files.json")[0], source="FTP_DATA")
    assert "dest_corroborated" not in fields_of("bro:files:json", record)


# ----------------------------------------------------------------------- Suricata on real EVE


def _fileinfo(tx_id: int) -> dict[str, object]:
    return next(
        r
        for r in records(REAL / "parsuri" / "eve.json")
        if r["event_type"] == "fileinfo" and r["fileinfo"]["tx_id"] == tx_id  # type: ignore[index]
    )


def test_a_truncated_file_counts_the_responses_http_length() -> None:
    record = _fileinfo(0)
    assert (record["fileinfo"]["state"], record["fileinfo"]["size"]) == ("TRUNCATED", 919)  # type: ignore[index]
    assert fields_of("suricata", record)["bytes_in"] == 105175


def test_a_closed_file_with_a_longer_http_length_counts_it_too() -> None:
    assert fields_of("suricata", _fileinfo(1))["bytes_in"] == 49172


def test_a_file_larger_than_its_http_length_keeps_its_size() -> None:
    record = json.loads(json.dumps(_fileinfo(1)))
    record["fileinfo"]["size"] = 60000
    assert fields_of("suricata", record)["bytes_in"] == 60000


def test_a_file_without_http_length_keeps_its_size() -> None:
    record = json.loads(json.dumps(_fileinfo(0)))
    del record["http"]
    assert fields_of("suricata", record)["bytes_in"] == 919


def test_without_libmagic_the_file_type_is_the_responses_content_type() -> None:
    assert fields_of("suricata", _fileinfo(0))["file_type"] == "application/x-debian-package"


def test_libmagics_description_wins_over_the_content_type() -> None:
    record = json.loads(json.dumps(_fileinfo(0)))
    record["fileinfo"]["magic"] = "Debian binary package (format 2.0)"
    assert fields_of("suricata", record)["file_type"] == "Debian binary package (format 2.0)"


# Suricata 2.0 wrote the HTTP status as text (src/output-json-http.c before commit 268285c49f,
# json_string(status)); this is its http event's shape on the real record's values.
SURICATA_2_0_HTTP = {
    "timestamp": "2017-01-30T16:12:36.177408+0100",
    "flow_id": 1501577875823823,
    "event_type": "http",
    "src_ip": "172.17.0.2",
    "src_port": 41402,
    "dest_ip": "54.230.202.37",
    "dest_port": 80,
    "proto": "TCP",
    "tx_id": 0,
    "http": {"hostname": "deb.debian.org", "url": "/debian/pool/main/p/perl/perl-base_5.24.1-1_amd64.deb",
             "http_user_agent": "Debian APT-HTTP/1.3 (1.4~beta3)", "http_method": "GET",
             "protocol": "HTTP/1.1", "status": "200", "length": 1341984},
}  # fmt: skip


def test_an_http_status_written_as_text_is_the_same_number() -> None:
    old = fields_of("suricata", SURICATA_2_0_HTTP)["status"]
    current = records(REAL / "parsuri" / "eve.json")[1]
    assert old == 200 and fields_of("suricata", current)["status"] == 200


def test_a_status_that_is_no_number_gives_none() -> None:
    record = json.loads(json.dumps(SURICATA_2_0_HTTP))
    record["http"]["status"] = "HTTP/1.1 2OO"
    assert "status" not in fields_of("suricata", record)


# -------------------------------------------------------------------- the offline SPL executor


def _executor(events: list[tuple[str, dict[str, object]]]) -> dict[str, dict[str, object]]:
    from tests.executor import IndexedEvent, Splunk

    from . import test_join

    with Splunk(ROOT / "package") as splunk:
        splunk.add_events(
            IndexedEvent("main", st, serial, pipeline.HOST, json.dumps(record), indextime=test_join.T)
            for serial, st, record in pipeline.serials(events)
        )
        results = splunk.search("search index=main | `mobile_ingress_normalize`", now=test_join.T)
    assert not results.texts("ERROR"), results.texts("ERROR")
    return {
        str(row["source"]): {name: pipeline.comparable(row.get(name)) for name in CONTRACT_FIELDS}
        for row in results.rows
    }


@pytest.mark.parametrize("folder", ["zeek-docs/wfetch", "slips-test9", "parsuri"])
def test_the_spl_executor_gives_the_real_records_what_raw_gives(folder: str, tmp_path: Path) -> None:
    events = eve_events() if folder == "parsuri" else zeek_events(folder)
    assert _executor(events) == pipeline.python(events, tmp_path)


def test_a_skip_is_not_what_real_records_get() -> None:
    for folder in ZEEK_SETS:
        for sourcetype, record in zeek_events(folder):
            assert not isinstance(apply(mappings()[sourcetype], record), Skip), (folder, record)


# --------------------------------------------------------------------- the name Zeek records


def test_the_file_name_zeek_records_is_the_retrievals_file_name() -> None:
    # files.log's `filename` is the response's Content-Disposition name, which may carry a path
    record = dict(records(REAL / "zeek-docs" / "wfetch" / "files.json")[0], filename="C:\\Temp\\wfetch.exe")
    assert fields_of("bro:files:json", record)["file_name"] == "wfetch.exe"


def test_a_file_without_a_recorded_name_has_none() -> None:
    assert "file_name" not in fields_of(
        "bro:files:json", records(REAL / "zeek-docs" / "wfetch" / "files.json")[0]
    )
