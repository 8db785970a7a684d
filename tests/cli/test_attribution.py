"""Device attribution on the command line (issue 14): DHCP leases and MDM device inventories given
as `--raw` inputs build the device inventory, which replaces the one of `--lookups` as the KV store
collection does in Splunk; a flow's device stays unresolved with its reason, counted in the summary.

The proof on real data: the real Zeek logs of a keep-alive connection (tests/data/real/slips-test9),
plus a dhcp.log and an Android Management API device record that name its client (10.0.2.15, a MAC),
written in those sources' own shapes: the retrievals resolve to the device, and a file the device
then writes makes a finding whose URL is the one Zeek links to the file (`resp_fuids`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mobile_ingress.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SLIPS = ROOT / "tests" / "data" / "real" / "slips-test9"
DHCP = SLIPS / "attribution" / "dhcp.json"
MDM = SLIPS / "attribution" / "mdm_amapi_device.json"
DEVICE = "enterprises/LC00slips9/devices/3a51f0c2d7e94b11"
CLIENT = "10.0.2.15"
JQUERY = "FofFpb2vqfSvu5mAMj"  # the third file of the keep-alive connection CRSXNH2L8T2k9Cc0Ok
HEADER = "device_id,platform,ip,user,first_seen,last_seen,mac,mac_randomized,mac_devices\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def zeek(*extra: Path) -> list[str]:
    argv = [
        "--raw",
        f"bro:http:json={SLIPS / 'http.json'}",
        "--raw",
        f"bro:files:json={SLIPS / 'files.json'}",
    ]
    for path in extra:
        sourcetype = "bro:dhcp:json" if path == DHCP else "mdm:amapi:device"
        argv += ["--raw", f"{sourcetype}={path}"]
    return argv


def zeek_link(fuid: str) -> str:
    """The URL of the http.log request whose resp_fuids lists FUID: Zeek's own link."""
    for line in (SLIPS / "http.json").read_text().splitlines():
        request = json.loads(line)
        if fuid in request.get("resp_fuids", []):
            return f"http://{request['host']}{request['uri']}"
    raise AssertionError(f"no request lists {fuid}")


def planted_script(tmp_path: Path, at: str) -> Path:
    """The device writes the jQuery it just fetched into its app's files/ (a script, AN1848)."""
    event = {
        "schema_version": "1.0",
        "vendor": "ExampleMTD",
        "product": "Mobile Sensor",
        "event_id": "planted-jquery",
        "event_type": "file.create",
        "timestamp": at,
        "device": {"id": DEVICE, "platform": "android"},
        "app": {"id": "com.example.reader"},
        "file": {"path": "/data/data/com.example.reader/files/web/jquery-1.11.1.min.js", "size": 95790},
    }
    path = tmp_path / "edr.json"
    path.write_text(json.dumps(event) + "\n")
    return path


def inventory(tmp_path: Path, *rows: str) -> Path:
    folder = tmp_path / "lookups"
    folder.mkdir(exist_ok=True)
    (folder / "mobile_ingress_device_inventory.csv").write_text(HEADER + "".join(r + "\n" for r in rows))
    return folder


# --------------------------------------------------------------------------- the real capture


def test_the_real_retrievals_resolve_to_the_device_the_dhcp_log_and_the_mdm_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, events, err = run(capsys, "normalize", "--lookups", str(tmp_path), *zeek(DHCP, MDM))
    assert code == 0, err
    assert len(events) == 7 and {e["src_ip"] for e in events} == {CLIENT}
    assert {(e["device_id"], e["platform"]) for e in events} == {(DEVICE, "android")}
    assert "device attribution: 1 MDM device records with a MAC, 1 address spans (1 attributed" in err


def test_without_the_dhcp_log_the_same_retrievals_stay_unresolved(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, events, err = run(capsys, "normalize", "--lookups", str(tmp_path), *zeek(MDM))
    assert code == 0 and events == []
    assert "skipped 7 (unresolved device (no inventory row): 7)" in err


def test_a_file_written_after_the_real_download_gives_a_finding_with_zeeks_url(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    edr = planted_script(tmp_path, "1970-01-01T00:01:21.700Z")  # 2 s after the file
    code, findings, err = run(
        capsys, "detect", "--lookups", str(tmp_path), *zeek(DHCP, MDM), "--raw", f"mobile:edr:telemetry={edr}"
    )
    assert code == 0, err
    (finding,) = findings
    assert (finding["analytic_id"], finding["device_id"], finding["risk_class"]) == (
        "AN1848",
        DEVICE,
        "script",
    )
    assert finding["url"] == zeek_link(JQUERY)
    assert finding["url"].endswith("/jquery/jquery-1.11.1.min.js")


def test_the_same_file_without_the_lease_gives_no_finding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    edr = planted_script(tmp_path, "1970-01-01T00:01:21.700Z")
    code, findings, _ = run(
        capsys, "detect", "--lookups", str(tmp_path), *zeek(MDM), "--raw", f"mobile:edr:telemetry={edr}"
    )
    assert code == 0 and findings == []


WFETCH = ROOT / "tests" / "data" / "real" / "zeek-docs" / "wfetch"


def test_the_real_download_splunk_is_tested_on_gives_the_same_finding_here(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """zeek-docs' wget of wfetch.exe with its dhcp.log and Intune record (tests/splunk/
    test_lookup_builders.py runs the same events through the builder and the correlation search)."""
    event = {
        "schema_version": "1.0", "vendor": "ExampleMTD", "product": "Mobile Sensor", "event_id": "planted-1",
        "event_type": "file.create", "timestamp": "2020-08-07T17:09:55.000Z",
        "device": {"id": "5b1c2a44-7d3e-4f0a-9c61-0e2f8a9b4d37", "platform": "android"},
        "app": {"id": "com.example.sideloaded"},
        "file": {"path": "/data/data/com.example.sideloaded/cache/update.apk", "size": 179272},
    }  # fmt: skip
    edr = tmp_path / "edr.json"
    edr.write_text(json.dumps(event) + "\n")
    raw = {
        "bro:http:json": WFETCH / "http.json",
        "bro:files:json": WFETCH / "files.json",
        "bro:dhcp:json": WFETCH / "attribution" / "dhcp.json",
        "mdm:intune:device": WFETCH / "attribution" / "mdm_intune_device.json",
        "mobile:edr:telemetry": edr,
    }
    argv = [arg for sourcetype, path in raw.items() for arg in ("--raw", f"{sourcetype}={path}")]
    code, findings, err = run(capsys, "detect", "--lookups", str(tmp_path), *argv)
    assert code == 0, err
    (finding,) = findings
    assert (finding["device_id"], finding["user"]) == (
        "5b1c2a44-7d3e-4f0a-9c61-0e2f8a9b4d37",
        "analyst@example.org",
    )
    request = json.loads((WFETCH / "http.json").read_text())
    assert finding["url"] == f"http://{request['host']}{request['uri']}"


# ------------------------------------------------------------------- which inventory is used


def test_the_attributed_inventory_replaces_the_lookups_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lookups = inventory(tmp_path, f"someone-else,android,{CLIENT},,0,999999,,,")
    _, events, _ = run(capsys, "normalize", "--lookups", str(lookups), *zeek(DHCP, MDM))
    assert {e["device_id"] for e in events} == {DEVICE}


def test_without_leases_or_mdm_records_the_lookups_inventory_applies(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lookups = inventory(tmp_path, f"someone-else,android,{CLIENT},,0,999999,,,")
    _, events, _ = run(capsys, "normalize", "--lookups", str(lookups), *zeek())
    assert {e["device_id"] for e in events} == {"someone-else"}


def test_leases_that_name_no_managed_device_leave_the_lookups_inventory_in_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A capture with its DHCP log but no MDM inventory attributes nothing: the --lookups
    inventory (the admin's own) must not be replaced by rows that name no device."""
    lookups = inventory(tmp_path, f"someone-else,android,{CLIENT},,0,999999,,,")
    _, events, _ = run(capsys, "normalize", "--lookups", str(lookups), *zeek(DHCP))
    assert {e["device_id"] for e in events} == {"someone-else"}


# ----------------------------------------------------------- why a flow stays unresolved


def test_each_reason_a_flow_stays_unresolved_is_counted_apart(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Lease spans no device is known for, as the builder writes them: a randomized MAC, a MAC two
    devices report, a MAC no MDM reports; and an address no row covers."""
    lookups = inventory(
        tmp_path,
        "d1,android,10.0.0.1,,0,100,,,",  # covers flow 1 only until t=100
        ",,10.0.0.2,,0,1000,a6:1f:4c:93:0b:7d,true,0",
        ",,10.0.0.3,,0,1000,8c:f5:a3:00:00:34,false,2",
        ",,10.0.0.4,,0,1000,00:11:22:33:44:55,false,0",
    )
    flows = tmp_path / "flows.ndjson"
    flows.write_text(
        "".join(
            json.dumps({"_time": 500, "activity": "retrieval", "src_ip": f"10.0.0.{n}", "dest": "x.example"})
            + "\n"
            for n in (1, 2, 3, 4)
        )
    )
    code, _, err = run(capsys, "detect", "--lookups", str(lookups), str(flows))
    assert code == 0
    summary = err.splitlines()[-1]
    for reason in (
        "unresolved device (no inventory row): 1",
        "unresolved device (randomized MAC): 1",
        "unresolved device (ambiguous): 1",
        "unresolved device (unmanaged device): 1",
    ):
        assert reason in summary, summary
    assert "10.0.0.2 at 500 is leased to MAC a6:1f:4c:93:0b:7d, a randomized MAC no MDM reports" in err


def test_a_row_without_a_device_must_be_a_lease_span_with_its_mac(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lookups = inventory(tmp_path, ",,10.0.0.2,,0,1000,,,")
    flows = tmp_path / "flows.ndjson"
    flows.write_text(
        json.dumps({"_time": 500, "activity": "retrieval", "src_ip": "10.0.0.2", "dest": "x.example"})
    )
    _, _, err = run(capsys, "detect", "--lookups", str(lookups), str(flows))
    assert "mobile_ingress_device_inventory row skipped: device_id is empty" in err
    assert "unresolved device (no inventory row): 1" in err.splitlines()[-1]


@pytest.mark.parametrize("command", ["detect", "normalize"])
def test_the_help_says_leases_and_mdm_inventories_build_the_inventory(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "MDM device inventories" in out and "device inventory" in out
