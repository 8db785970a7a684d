"""`mobile-ingress detect --raw SOURCETYPE=INPUT` (contract section 5): the realistic samples of
every sourcetype normalized into the contract's fields, the same finding from raw formats as from
their normalized twin, joins, and malformed raw events skipped and counted with their line."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.raw_support import assert_cim_only, detect, normalized

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
FILES, HTTP, CONN = SAMPLES / "bro_files.json", SAMPLES / "bro_http.json", SAMPLES / "bro_conn.json"
EVE, EDR = SAMPLES / "suricata_eve.json", SAMPLES / "mobile_edr_telemetry.json"
T = 1795939200  # 2026-11-29T08:00:00Z, the samples' time
APK = "application/vnd.android.package-archive"
SHA256 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
INVENTORY = (
    "device_id,platform,ip,user,first_seen,last_seen\n"
    "android-7f3a9c,android,10.20.30.40,alice@example.com,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z\n"
    "ios-41d2e8,ios,10.20.30.52,bob@example.com,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z\n"
    "android-2b61d0,android,10.20.30.41,carol@example.com,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z\n"
)


@pytest.fixture
def lookups(tmp_path: Path) -> Path:
    folder = tmp_path / "lookups"
    folder.mkdir()
    (folder / "mobile_ingress_device_inventory.csv").write_text(INVENTORY, encoding="utf-8")
    return folder


def edr_line(kind: str) -> str:
    return next(line for line in EDR.read_text().splitlines() if f'"event_type":"{kind}"' in line)


# ------------------------------------------------------------------------- every sourcetype


def test_zeek_files_log_current_form_is_a_retrieval_with_host_and_url_from_http_log(lookups: Path) -> None:
    events = normalized(lookups, f"bro:files:json={FILES}", f"bro:http:json={HTTP}")
    first = next(e for e in events if e["event_id"] == "FjkLnG4s5J8Gq9Tz3")
    assert first == {
        "_time": T + 0.512345,
        "activity": "retrieval",
        "platform": "android",
        "device_id": "android-7f3a9c",
        "user": "alice@example.com",
        "event_id": "FjkLnG4s5J8Gq9Tz3",
        "dest": "updates.flashpro-cdn.example",
        "dest_corroborated": False,  # the Host header alone names it
        "dest_ip": "203.0.113.50",
        "dest_port": 80,
        "url": "http://updates.flashpro-cdn.example/v2/payload/stage2.apk",
        "src_ip": "10.20.30.40",
        "bytes_in": 482311,
        "retrieval_method": "http",
    }


def test_zeek_files_log_before_5_1_is_keyed_by_rx_hosts_and_joined_by_its_fuid(lookups: Path) -> None:
    events = normalized(lookups, f"bro:files:json={FILES}", f"bro:http:json={HTTP}")
    legacy = next(e for e in events if e["event_id"] == "F2xow8TIkvHG4Zz5sa")
    assert legacy["device_id"] == "android-2b61d0" and legacy["src_ip"] == "10.20.30.41"
    assert legacy["dest_ip"] == "198.51.100.23" and legacy["dest"] == "legacy-cdn.example"
    assert (
        legacy["url"] == "http://legacy-cdn.example/assets/bundle-3.2.0.zip" and legacy["bytes_in"] == 912004
    )


def _keep_alive(tmp_path: Path, legacy: bool) -> tuple[Path, Path]:
    """One connection, two requests (resp_fuids F1, F2), their two files in files.log."""
    uid = "CkeepAlive0001"
    requests = [
        {"ts": T + 100, "uid": uid, "id.orig_h": "10.20.30.40", "id.orig_p": 50100,
         "id.resp_h": "203.0.113.60", "id.resp_p": 80, "method": "GET", "host": "cdn.keepalive.example",
         "uri": uri, "response_body_len": 150000, "status_code": 200, "resp_fuids": [fuid]}
        for uri, fuid in (("/b/second.apk", "Fsecond"), ("/a/first.apk", "Ffirst"))
    ]  # fmt: skip
    files = []
    for n, fuid in enumerate(("Fsecond", "Ffirst")):
        record: dict[str, object] = {"ts": T + 100.5 + n, "fuid": fuid, "source": "HTTP", "is_orig": False,
                                     "seen_bytes": 150000, "mime_type": APK}  # fmt: skip
        if legacy:
            record.update({"tx_hosts": ["203.0.113.60"], "rx_hosts": ["10.20.30.40"], "conn_uids": [uid]})
        else:
            record.update({"uid": uid, "id.orig_h": "10.20.30.40", "id.resp_h": "203.0.113.60"})
        files.append(record)
    http, files_log = tmp_path / "http.log", tmp_path / "files.log"
    http.write_text("".join(json.dumps(r) + "\n" for r in requests))
    files_log.write_text("".join(json.dumps(r) + "\n" for r in files))
    return files_log, http


@pytest.mark.parametrize("legacy", [False, True], ids=["zeek 5.1+", "before 5.1"])
def test_each_file_of_a_keep_alive_connection_gets_its_own_requests_url(
    lookups: Path, tmp_path: Path, legacy: bool
) -> None:
    files_log, http = _keep_alive(tmp_path, legacy)
    events = normalized(lookups, f"bro:files:json={files_log}", f"bro:http:json={http}")
    assert {e["event_id"]: e["url"] for e in events} == {
        "Fsecond": "http://cdn.keepalive.example/b/second.apk",
        "Ffirst": "http://cdn.keepalive.example/a/first.apk",
    }


def test_a_file_no_request_of_its_connection_lists_keeps_the_server_ip(lookups: Path, tmp_path: Path) -> None:
    files_log, http = _keep_alive(tmp_path, legacy=False)
    lines = http.read_text().splitlines()
    http.write_text(lines[0] + "\n")  # only the request of Fsecond
    found = normalized(lookups, f"bro:files:json={files_log}", f"bro:http:json={http}")
    events = {e["event_id"]: e for e in found}
    assert events["Fsecond"]["url"].endswith("/b/second.apk")
    assert "url" not in events["Ffirst"] and events["Ffirst"]["dest"] == "203.0.113.60"


def test_a_file_the_device_uploaded_is_no_retrieval(lookups: Path) -> None:
    events = normalized(lookups, f"bro:files:json={FILES}")
    assert "FrSl8u3m0xX4Jb1Yd" not in {e["event_id"] for e in events} and len(events) == 2


def test_without_http_log_a_zeek_retrieval_falls_back_to_the_server_ip(lookups: Path) -> None:
    first = normalized(lookups, f"bro:files:json={FILES}")[0]
    assert first["dest"] == "203.0.113.50" and "url" not in first


@pytest.mark.parametrize("path", [CONN, HTTP], ids=["conn.log", "http.log"])
def test_zeek_conn_and_http_logs_map_to_cim_only(lookups: Path, path: Path, capsys: Any) -> None:
    sourcetype = "bro:conn:json" if path == CONN else "bro:http:json"
    assert_cim_only(lookups, sourcetype, path, capsys)


def test_suricata_fileinfo_is_one_retrieval_and_http_and_flow_are_cim_only(lookups: Path) -> None:
    events = normalized(lookups, f"suricata={EVE}")
    assert events == [
        {
            "_time": T + 0.512345,
            "activity": "retrieval",
            "platform": "android",
            "device_id": "android-7f3a9c",
            "user": "alice@example.com",
            "dest": "updates.flashpro-cdn.example",
            "dest_corroborated": False,  # the Host header alone names it
            "dest_ip": "203.0.113.50",
            "dest_port": 80,
            "url": "http://updates.flashpro-cdn.example/v2/payload/stage2.apk",
            "src_ip": "10.20.30.40",
            "bytes_in": 482311,
            "retrieval_method": "http",
            "file_name": "stage2.apk",
        }
    ]


def test_suricata_fileinfo_without_its_http_object_takes_host_and_url_from_the_http_event(
    lookups: Path, tmp_path: Path
) -> None:
    lines = EVE.read_text().splitlines()
    fileinfo = json.loads(lines[1])
    del fileinfo["http"]
    path = tmp_path / "eve.json"
    path.write_text("\n".join([lines[0], json.dumps(fileinfo)]) + "\n")
    (event,) = normalized(lookups, f"suricata={path}")
    assert event["dest"] == "updates.flashpro-cdn.example"
    assert event["url"] == "http://updates.flashpro-cdn.example/v2/payload/stage2.apk"
    path.write_text(json.dumps(fileinfo) + "\n")
    (alone,) = normalized(lookups, f"suricata={path}")
    assert alone["dest"] == "203.0.113.50" and "url" not in alone


EDR_EXPECTED = {
    "network.retrieval": {
        "activity": "retrieval",
        "app_id": "com.flash.pro",
        "retrieval_method": "download_manager",
        "dest": "files.quickshare-cdn.example",
        "bytes_in": 48213,
        "app_state": "background",
        "device_locked": False,
        "recent_user_interaction": False,
    },
    "file.create": {
        "activity": "file_create",
        "file_path": "/data/data/com.flash.pro/cache/stage2.apk",
        "file_name": "stage2.apk",
        "file_size": 482311,
        "file_hash": SHA256,
        "file_type": APK,
    },
    "archive.unpack": {"activity": "unpack", "target_path": "/data/data/com.flash.pro/app_payload"},
    "code.load": {
        "activity": "load",
        "load_method": "dexclassloader",
        "file_path": "/data/data/com.flash.pro/app_payload/classes.dex",
    },
    "file.handoff": {"activity": "handoff", "target_app": "com.google.android.packageinstaller"},
    "app.state": {"activity": "state", "platform": "ios", "app_state": "foreground"},
    "device.lock": {"activity": "state", "device_locked": True},
    "user.interaction": {"activity": "state", "recent_user_interaction": True},
}


@pytest.mark.parametrize("kind", sorted(EDR_EXPECTED))
def test_every_edr_event_kind_gives_its_contract_fields(kind: str, lookups: Path, tmp_path: Path) -> None:
    path = tmp_path / "edr.json"
    path.write_text(edr_line(kind) + "\n")
    (event,) = normalized(lookups, f"mobile:edr:telemetry={path}")
    source = json.loads(edr_line(kind))
    assert event["device_id"] == source["device"]["id"] and event["event_id"] == source["event_id"]
    assert {k: event.get(k) for k in EDR_EXPECTED[kind]} == EDR_EXPECTED[kind]


def test_the_direct_http_retrieval_keeps_its_url(lookups: Path) -> None:
    retrievals = [
        e for e in normalized(lookups, f"mobile:edr:telemetry={EDR}") if e["activity"] == "retrieval"
    ]
    assert [e["retrieval_method"] for e in retrievals] == ["download_manager", "http"]
    assert retrievals[1]["url"] == "http://updates.flashpro-cdn.example/v2/payload/stage2.apk"


# ------------------------------------------------------------ the same finding as the twin


TWIN = [
    {
        "_time": T + 0.512345,
        "activity": "retrieval",
        "src_ip": "10.20.30.40",
        "dest": "updates.flashpro-cdn.example",
        "dest_ip": "203.0.113.50",
        "dest_port": 80,
        "url": "http://updates.flashpro-cdn.example/v2/payload/stage2.apk",
        "bytes_in": 482311,
        "retrieval_method": "http",
        "event_id": "FjkLnG4s5J8Gq9Tz3",
    },
    {
        "_time": "2026-11-29T08:00:03.250Z",
        "activity": "file_create",
        "platform": "android",
        "device_id": "android-7f3a9c",
        "app_id": "com.flash.pro",
        "user": "alice@example.com",
        "event_id": "6f1c2f9e-0d7e-4c1b-9a51-1f1e3c2a7b03",
        "file_path": "/data/user/0/com.flash.pro/cache/stage2.apk",
        "file_size": 482311,
        "file_hash": SHA256,
        "file_type": APK,
    },
]


def test_a_raw_zeek_and_edr_chain_gives_the_finding_of_its_normalized_twin(
    lookups: Path, tmp_path: Path, capsys: Any
) -> None:
    twin = tmp_path / "twin.ndjson"
    twin.write_text("".join(json.dumps(e) + "\n" for e in TWIN))
    code, expected, _ = detect(capsys, "--lookups", str(lookups), str(twin))
    assert code == 0 and len(expected) == 1 and expected[0]["confidence"] == "high"
    edr = tmp_path / "edr.json"
    edr.write_text(edr_line("file.create") + "\n")
    code, found, err = detect(
        capsys,
        "--lookups",
        str(lookups),
        "--raw",
        f"bro:files:json={FILES}",
        "--raw",
        f"bro:http:json={HTTP}",
        "--raw",
        f"bro:conn:json={CONN}",
        "--raw",
        f"mobile:edr:telemetry={edr}",
    )
    assert code == 0 and found == expected, err


def test_the_twin_check_sees_a_different_retrieval(lookups: Path, tmp_path: Path, capsys: Any) -> None:
    twin = tmp_path / "twin.ndjson"
    twin.write_text("".join(json.dumps(e) + "\n" for e in TWIN))
    edr = tmp_path / "edr.json"
    edr.write_text(edr_line("file.create") + "\n")
    _, expected, _ = detect(capsys, "--lookups", str(lookups), str(twin))
    # Without http.log the retrieval has no host or URL: a finding, but not the same one.
    _, found, _ = detect(
        capsys,
        "--lookups",
        str(lookups),
        "--raw",
        f"bro:files:json={FILES}",
        "--raw",
        f"mobile:edr:telemetry={edr}",
    )
    assert len(found) == 1 and found[0]["dest"] == "203.0.113.50" and found != expected


def test_a_raw_suricata_and_edr_chain_gives_the_same_finding_as_zeek(
    lookups: Path, tmp_path: Path, capsys: Any
) -> None:
    edr = tmp_path / "edr.json"
    edr.write_text(edr_line("file.create") + "\n")
    _, zeek, _ = detect(
        capsys,
        "--lookups",
        str(lookups),
        "--raw",
        f"bro:files:json={FILES}",
        "--raw",
        f"bro:http:json={HTTP}",
        "--raw",
        f"mobile:edr:telemetry={edr}",
    )
    # EVE's transfer events only: its dhcp events would build the device inventory from the --raw
    # inputs, in place of the one of --lookups (device attribution)
    transfers = tmp_path / "eve.json"
    transfers.write_text(
        "".join(line + "\n" for line in EVE.read_text().splitlines() if '"dhcp"' not in line)
    )
    _, eve, _ = detect(
        capsys,
        "--lookups",
        str(lookups),
        "--raw",
        f"suricata={transfers}",
        "--raw",
        f"mobile:edr:telemetry={edr}",
    )
    assert len(eve) == 1
    differs = {k for k in eve[0] if eve[0][k] != zeek[0][k]}
    assert differs == {"evidence"}, differs  # EVE fileinfo has no file id: evidence cites its time


def test_raw_and_normalized_inputs_are_correlated_together(
    lookups: Path, tmp_path: Path, capsys: Any
) -> None:
    twin = tmp_path / "file.ndjson"
    twin.write_text(json.dumps(TWIN[1]) + "\n")
    code, rows, _ = detect(
        capsys,
        "--lookups",
        str(lookups),
        "--raw",
        f"bro:files:json={FILES}",
        "--raw",
        f"bro:http:json={HTTP}",
        str(twin),
    )
    assert code == 0 and len(rows) == 1 and rows[0]["url"].endswith("/stage2.apk")


def test_gzip_and_stdin_raw_inputs(lookups: Path, tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    packed = tmp_path / "files.json.gz"
    packed.write_bytes(gzip.compress(FILES.read_bytes()))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(edr_line("file.create").encode() + b"\n")))
    code, rows, _ = detect(
        capsys,
        "--lookups",
        str(lookups),
        "--raw",
        f"bro:files:json={packed}",
        "--raw",
        "bro:http:json=" + str(HTTP),
        "--raw",
        "mobile:edr:telemetry=-",
    )
    assert code == 0 and len(rows) == 1


# ----------------------------------------------------------------------------- bad input


MALFORMED = [
    ('{"ts":1795939201.5,"fuid":"Fx","is_orig":fal', "not JSON"),
    ("[1, 2, 3]", "not a JSON object"),
    ("{}", "missing timestamp (ts)"),
    ('{"fuid":"Fy","is_orig":false,"id.orig_h":"10.20.30.40"}', "missing timestamp (ts)"),
    (
        '{"ts":"yesterday","fuid":"Fz","is_orig":false,"id.orig_h":"10.20.30.40","id.resp_h":"203.0.113.9"}',
        "invalid _time (not a time)",
    ),
    (
        '{"ts":1795939201.5,"fuid":"Fw","is_orig":false,"id.orig_h":12345,"id.resp_h":"203.0.113.9"}',
        "missing device_id (and no src_ip to resolve it)",
    ),
    (
        '{"ts":1795939201.5,"fuid":"Fv","is_orig":false,"id.orig_h":{"a":1},"id.resp_h":["203.0.113.9"]}',
        "missing device_id (and no src_ip to resolve it)",
    ),
    ('{"ts":1795939201.5,"seen_bytes":' + "9" * 5000 + "}", "not JSON"),
    ("[" * 100_000 + "]" * 100_000, "raw event longer than 100000 bytes (Splunk TRUNCATE)"),
    (
        '{"ts":1795939201.5,"filename":"' + "A" * 200_000 + '"}',
        "raw event longer than 100000 bytes (Splunk TRUNCATE)",
    ),
    ("[" * 50_000 + "]" * 40_000, "not JSON"),
    ("\x00\xff\xfe garbage", "not JSON"),
]


def test_malformed_raw_events_are_skipped_counted_and_the_good_ones_kept(
    lookups: Path, tmp_path: Path, capsys: Any
) -> None:
    good = FILES.read_text().splitlines()
    lines = [good[0]] + [bad for bad, _ in MALFORMED] + good[1:]
    path = tmp_path / "files.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogateescape")
    edr = tmp_path / "edr.json"
    edr.write_text(edr_line("file.create") + "\n")
    messages = tmp_path / "messages.txt"
    code, rows, err = detect(
        capsys,
        "--lookups",
        str(lookups),
        "--messages",
        str(messages),
        "--raw",
        f"bro:files:json={path}",
        "--raw",
        f"bro:http:json={HTTP}",
        "--raw",
        f"mobile:edr:telemetry={edr}",
    )
    assert code == 0 and len(rows) == 1 and rows[0]["dest"] == "updates.flashpro-cdn.example"
    kept = messages.read_text().splitlines()
    for number, (_, reason) in enumerate(MALFORMED, start=2):
        assert any(m.startswith(f"{path}:{number}: skipped: {reason}") for m in kept), (number, reason, kept)
    # 3 good lines; 3 bad ones are retrievals the engine then refuses (bad time, no device IP).
    assert f"raw bro:files:json {path}: {len(lines)} lines, 5 detection events, 1 CIM only, 9 skipped" in err
    assert "skipped 12 (" in err


def test_a_raw_file_that_is_not_json_at_all_still_exits_zero(
    lookups: Path, tmp_path: Path, capsys: Any
) -> None:
    path = tmp_path / "conn.log"
    path.write_text("#separator \\x09\n#fields\tts\tuid\n1795939200.1\tCabc\n")  # Zeek TSV, not JSON
    code, rows, err = detect(capsys, "--lookups", str(lookups), "--raw", f"bro:conn:json={path}")
    assert code == 0 and rows == [] and f"{path}:1: skipped: not JSON" in err and "skipped 3" in err


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("bro:files:json", "expected SOURCETYPE=INPUT"),
        ("=x.log", "expected SOURCETYPE=INPUT"),
        ("bro:dns:json=x.log", "not a supported sourcetype (supported: bro:conn:json, bro:dhcp:json"),
        ("bro:files:json=/nonexistent/files.log", "no such file"),
    ],
)
def test_a_bad_raw_option_is_a_usage_error(spec: str, message: str, capsys: Any) -> None:
    code, rows, err = detect(capsys, "--raw", spec)
    assert code == 2 and rows == [] and message in err
