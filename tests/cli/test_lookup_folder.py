"""`detect --lookups DIR`: which file of DIR each lookup reads, in Splunk's order, and what DIR holds
that no lookup reads."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from mobile_ingress.cli.detect import SHIPPED_LOOKUPS, lookup_sources
from mobile_ingress.cli.main import main
from mobile_ingress.engine.lookups import LOOKUP_NAMES

from .test_detect import EVENTS, write_ndjson

ROOT = Path(__file__).resolve().parents[2]
ALLOW_EVIL = "destination,app_id,comment\n*.evil.example,com.flash.pro,test\n"
ALLOW_OTHER = "destination,app_id,comment\n*.other.example,com.flash.pro,test\n"


def detect(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["detect", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def folder_with(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "lookups"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_local_file_wins_over_the_plain_file_of_the_folder(tmp_path: Path, capsys: Any) -> None:
    folder = folder_with(
        tmp_path,
        {
            "mobile_ingress_allowed_destinations_local.csv": ALLOW_EVIL,
            "mobile_ingress_allowed_destinations.csv": ALLOW_OTHER,
        },
    )
    events = str(write_ndjson(tmp_path / "e.ndjson", EVENTS))
    code, out, _ = detect(capsys, "--lookups", str(folder), "--suppressed", events)
    row = json.loads(out)
    assert code == 0 and row["suppressed_by"] == "mobile_ingress_allowed_destinations: *.evil.example"


def test_without_a_local_file_the_plain_file_of_the_folder_applies(tmp_path: Path, capsys: Any) -> None:
    folder = folder_with(tmp_path, {"mobile_ingress_allowed_destinations.csv": ALLOW_OTHER})
    events = str(write_ndjson(tmp_path / "e.ndjson", EVENTS))
    code, out, _ = detect(capsys, "--lookups", str(folder), events)
    assert code == 0 and json.loads(out)["analytic_id"] == "AN1848"  # *.other.example does not cover it


def _splunk_lookup_sources(app_dir: str) -> dict[str, list[Any]]:
    sys.dont_write_bytecode = True  # package/ is copied into the app as is: no __pycache__ there
    bin_dir = str(ROOT / "package" / "bin")
    if bin_dir not in sys.path:
        sys.path.insert(0, bin_dir)
    from mobile_ingress_splunk.command_support import lookup_sources as splunk_sources

    return splunk_sources(app_dir, None)


def test_the_folder_files_come_in_the_order_splunk_reads_the_app_folder(tmp_path: Path) -> None:
    cli = lookup_sources(str(tmp_path))
    splunk = _splunk_lookup_sources(str(tmp_path))
    for name in LOOKUP_NAMES:
        cli_files = [os.path.basename(s.label) for s in cli[name]]
        splunk_files = [os.path.basename(s.label) for s in splunk[name]]
        # Splunk: KV store (absent here), _local, shipped; here: _local and plain of DIR, shipped.
        assert cli_files[:2] == splunk_files
        assert cli[name][-1].label == str(SHIPPED_LOOKUPS / splunk_files[1])


def test_without_a_folder_only_the_shipped_file_is_read() -> None:
    assert all([s.label for s in chain] == [str(SHIPPED_LOOKUPS / f"mobile_ingress_{name}.csv")]
               for name, chain in lookup_sources(None).items())


def test_a_misspelled_lookup_file_is_a_counted_warning_with_the_name_it_meant(
    tmp_path: Path, capsys: Any
) -> None:
    folder = folder_with(tmp_path, {"mobile_ingress_allowed_app.csv": "platform,app_id,roles\n"})
    events = str(write_ndjson(tmp_path / "e.ndjson", EVENTS))
    code, _, err = detect(capsys, "--lookups", str(folder), events)
    assert code == 0 and "1 warnings" in err
    assert (
        f"{folder / 'mobile_ingress_allowed_app.csv'}: not a known lookup, not read"
        " (did you mean mobile_ingress_allowed_apps.csv?)" in err
    )


def test_correctly_named_lookup_files_give_no_warning(tmp_path: Path, capsys: Any) -> None:
    lookups = ("allowed_apps", "allowed_destinations")
    names = {f"mobile_ingress_{n}{s}.csv" for n in lookups for s in ("", "_local")}
    folder = folder_with(tmp_path, {name: "" for name in names} | {"mobile_ingress_mdm_role_map.csv": ""})
    code, _, err = detect(capsys, "--lookups", str(folder), str(write_ndjson(tmp_path / "e.ndjson", EVENTS)))
    assert code == 0 and "0 warnings" in err and "not a known lookup" not in err


def test_the_summary_names_the_file_each_lookup_came_from(tmp_path: Path, capsys: Any) -> None:
    folder = folder_with(tmp_path, {"mobile_ingress_allowed_destinations_local.csv": ALLOW_OTHER})
    code, _, err = detect(capsys, "--lookups", str(folder), str(write_ndjson(tmp_path / "e.ndjson", EVENTS)))
    used = next(line for line in err.splitlines() if line.startswith("mobile-ingress: lookups used:"))
    assert code == 0
    assert f"allowed_destinations: {folder / 'mobile_ingress_allowed_destinations_local.csv'}" in used
    assert "allowed_apps: shipped" in used and "device_inventory: empty" in used  # shipped: no rows


def test_quiet_leaves_out_the_lookups_used(tmp_path: Path, capsys: Any) -> None:
    folder = folder_with(tmp_path, {"mobile_ingress_allowed_destinations_local.csv": ALLOW_OTHER})
    code, _, err = detect(
        capsys, "--quiet", "--lookups", str(folder), str(write_ndjson(tmp_path / "e.ndjson", EVENTS))
    )
    assert code == 0 and err == ""
