"""`mobile-ingress normalize` (what one's data becomes), `--messages FILE` keeping every message,
and the proof on real data: Zeek's logs of a real download plus a device inventory row for its
client give a finding, for a planted file creation, whose URL is the one Zeek links to the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mobile_ingress.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
REAL = ROOT / "tests" / "data" / "real"
WFETCH = REAL / "zeek-docs" / "wfetch"
INVENTORY_HEADER = "device_id,platform,ip,user,first_seen,last_seen\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


@pytest.fixture
def lookups(tmp_path: Path) -> Path:
    folder = tmp_path / "lookups"
    folder.mkdir()
    (folder / "mobile_ingress_device_inventory.csv").write_text(
        INVENTORY_HEADER + "android-lab-1,android,192.168.4.37,analyst@example.org,2020-08-07T00:00:00Z,"
        "2020-08-08T00:00:00Z\n"
    )
    return folder


def zeek_raw(folder: Path) -> list[str]:
    return [
        "--raw", f"bro:http:json={folder / 'http.json'}",
        "--raw", f"bro:files:json={folder / 'files.json'}",
        "--raw", f"bro:conn:json={folder / 'conn.json'}",
    ]  # fmt: skip


# --------------------------------------------------------------------------------- normalize


def test_normalize_writes_the_joined_retrieval_of_a_real_download(
    capsys: pytest.CaptureFixture[str], lookups: Path
) -> None:
    code, events, err = run(capsys, "normalize", "--lookups", str(lookups), *zeek_raw(WFETCH))
    assert code == 0, err
    assert events == [
        {
            "_time": 1596820191.969902,
            "activity": "retrieval",
            "platform": "android",
            "device_id": "android-lab-1",
            "user": "analyst@example.org",
            "event_id": "FBbQxG1GXLXgmWhbk9",
            "dest": "download.microsoft.com",
            "dest_corroborated": False,
            "dest_ip": "23.195.64.241",
            "url": "http://download.microsoft.com/download/d/e/5/de5351d6-4463-4cc3-a27c-3e2274263c43/wfetch.exe",
            "src_ip": "192.168.4.37",
            "bytes_in": 179272,
            "retrieval_method": "http",
        }
    ]
    assert "wrote 1 normalized events" in err


def test_normalize_skips_what_detect_skips_with_the_same_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()  # no inventory row: the flow retrieval's device is unresolved
    code, events, err = run(capsys, "normalize", "--lookups", str(empty), *zeek_raw(WFETCH))
    assert code == 0 and events == []
    _, _, detect_err = run(capsys, "detect", "--lookups", str(empty), *zeek_raw(WFETCH))
    skip = next(line for line in err.splitlines() if "skipped" in line and "files.json:1" in line)
    assert skip in detect_err.splitlines()


def test_normalize_passes_normalized_input_through_validation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "events.ndjson"
    path.write_text(
        json.dumps({"_time": 1700000000, "activity": "state", "platform": "android", "device_id": "d1",
                    "device_locked": "TRUE"}) + "\n"
        + json.dumps({"_time": 1700000001, "activity": "dance", "platform": "android",
                      "device_id": "d1"}) + "\n"
    )  # fmt: skip
    code, events, err = run(capsys, "normalize", str(path))
    assert code == 0
    assert events == [
        {
            "_time": 1700000000.0,
            "activity": "state",
            "platform": "android",
            "device_id": "d1",
            "device_locked": True,
        }
    ]
    assert f"{path}:2: skipped: invalid activity" in err


def test_normalize_without_input_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "normalize")
    assert code == 2 and "no input" in err


def test_normalize_says_how_src_ip_resolves_in_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["normalize", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "devices attributed" in out and "mobile_ingress_device_inventory" in out
    assert "randomized MAC, unmanaged device" in out


# ------------------------------------------------------------------------------- --messages


def test_messages_file_keeps_every_message_past_a_thousand(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_text("not json\n" * 1500)
    messages = tmp_path / "messages.txt"
    code, _, err = run(capsys, "detect", "--messages", str(messages), str(path))
    kept = messages.read_text().splitlines()
    assert code == 0 and len(kept) == 1500
    assert kept[-1] == f"{path}:1500: skipped: not JSON"
    assert "... and 1480 more messages" in err


def test_messages_file_of_a_run_that_restarts_holds_one_runs_messages(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Out-of-order input makes `auto` start over (ascending, descending, then all at once).
    path = tmp_path / "unordered.ndjson"
    lines = [{"_time": t, "activity": "state", "platform": "android", "device_id": "d1"} for t in (5, 1, 9)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + "not json\n")
    messages = tmp_path / "messages.txt"
    run(capsys, "detect", "--messages", str(messages), str(path))
    assert messages.read_text().splitlines() == [f"{path}:4: skipped: not JSON"]


def test_normalize_keeps_every_message_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_text("[1]\n" * 1200)
    messages = tmp_path / "messages.txt"
    run(capsys, "normalize", "--messages", str(messages), str(path))
    assert len(messages.read_text().splitlines()) == 1200


# ------------------------------------------------------------------------ the proof on real data


def planted_file(tmp_path: Path, at: str) -> Path:
    """An EDR file creation on the device the inventory gives the download's client."""
    event = {
        "schema_version": "1.0",
        "vendor": "ExampleMTD",
        "product": "Mobile Sensor",
        "event_id": "planted-1",
        "event_type": "file.create",
        "timestamp": at,
        "device": {"id": "android-lab-1", "platform": "android"},
        "app": {"id": "com.example.sideloaded"},
        "file": {"path": "/data/data/com.example.sideloaded/cache/update.apk", "size": 179272},
    }
    path = tmp_path / "edr.json"
    path.write_text(json.dumps(event) + "\n")
    return path


def test_a_planted_file_after_a_real_download_gives_a_finding_with_zeeks_url(
    capsys: pytest.CaptureFixture[str], lookups: Path, tmp_path: Path
) -> None:
    edr = planted_file(tmp_path, "2020-08-07T17:09:55.000Z")  # 3 s after the download
    code, findings, err = run(
        capsys, "detect", "--lookups", str(lookups), *zeek_raw(WFETCH), "--raw", f"mobile:edr:telemetry={edr}"
    )
    assert code == 0, err
    (finding,) = findings
    assert finding["device_id"] == "android-lab-1" and finding["analytic_id"] == "AN1848"
    http = json.loads((WFETCH / "http.json").read_text())
    files = json.loads((WFETCH / "files.json").read_text())
    assert files["fuid"] in http["resp_fuids"]  # Zeek's own link from the file to its request
    assert finding["url"] == f"http://{http['host']}{http['uri']}"


def test_a_planted_file_long_after_the_download_gives_none(
    capsys: pytest.CaptureFixture[str], lookups: Path, tmp_path: Path
) -> None:
    edr = planted_file(tmp_path, "2020-08-07T18:09:55.000Z")  # an hour later: outside time_window
    code, findings, _ = run(
        capsys, "detect", "--lookups", str(lookups), *zeek_raw(WFETCH), "--raw", f"mobile:edr:telemetry={edr}"
    )
    assert code == 0 and findings == []


def test_real_logs_of_every_set_run_through_detect_without_a_crash(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    specs = []
    sourcetypes = {
        "conn": "bro:conn:json",
        "http": "bro:http:json",
        "files": "bro:files:json",
        "dhcp": "bro:dhcp:json",
        "mdm_amapi_device": "mdm:amapi:device",
        "mdm_intune_device": "mdm:intune:device",
    }
    for folder in sorted(p for p in REAL.rglob("*.json") if p.parent.name != "parsuri"):
        specs += ["--raw", f"{sourcetypes[folder.stem]}={folder}"]
    specs += ["--raw", f"suricata={REAL / 'parsuri' / 'eve.json'}"]
    code, _, err = run(capsys, "detect", "--lookups", str(tmp_path), *specs)
    assert code == 0, err
    assert "failed" not in err
