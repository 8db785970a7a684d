"""The allowlist tabs against a stand-in splunkd: entries reach the KV store collection that
`ingresscorrelate` reads first, and the detection honours them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from mobile_ingress_splunk.setup_entries import TABLES, EntryError
from mobile_ingress_splunk.setup_store import AllowlistStore

from .detection import chain, findings, search_lookups
from .standin import StandIn

DESTINATIONS = "mobile_ingress_allowed_destinations"


def store(splunkd: Any, app_dir: Path, tab: str = "allowed_destinations") -> AllowlistStore:
    return AllowlistStore(splunkd, TABLES[tab], str(app_dir / "lookups"))


def shipped_rows(app_dir: Path, lookup: str) -> int:
    return len((app_dir / "lookups" / f"mobile_ingress_{lookup}.csv").read_text().splitlines()) - 1


def test_before_any_change_the_page_lists_the_shipped_defaults_and_writes_nothing(
    stand_in: StandIn, splunkd: Any, app_dir: Path
) -> None:
    entries = store(splunkd, app_dir).entries()
    assert len(entries) == shipped_rows(app_dir, "allowed_destinations")
    assert entries[0].name == "shipped-play.googleapis.com"
    assert entries[0].values == {
        "destination": "play.googleapis.com",
        "app_id": "*",
        "comment": "Google Play app and split APK delivery",
        "disabled": "false",
    }
    assert {e.origin for e in entries} == {"shipped default"}
    assert stand_in.writes() == []


def test_a_valid_destination_is_stored_with_the_shipped_defaults_and_suppresses_the_finding(
    stand_in: StandIn, splunkd: Any, app_dir: Path
) -> None:
    events = chain("cdn.example.net")
    assert len(findings(search_lookups(stand_in, app_dir), events)) == 1

    store(splunkd, app_dir).create(
        "example-cdn",
        {
            "destination": "CDN.example.net",
            "app_id": "com.example.game",
            "comment": "our updater",
            "disabled": "0",
        },
    )

    records = stand_in.collections[DESTINATIONS]
    assert len(records) == shipped_rows(app_dir, "allowed_destinations") + 1
    assert records[-1] == {
        "_key": "example-cdn",
        "destination": "CDN.example.net",
        "app_id": "com.example.game",
        "comment": "our updater",
        "disabled": "false",
        "_user": "nobody",
    }
    lookups = search_lookups(stand_in, app_dir)
    assert lookups.sources["allowed_destinations"] == f"KV store collection {DESTINATIONS}"
    assert "cdn.example.net" in [d.pattern.host for d in lookups.allowed_destinations]
    assert findings(lookups, events) == []


def test_an_entry_for_another_app_does_not_suppress_the_finding(
    stand_in: StandIn, splunkd: Any, app_dir: Path
) -> None:
    store(splunkd, app_dir).create("other", {"destination": "cdn.example.net", "app_id": "com.example.other"})
    assert len(findings(search_lookups(stand_in, app_dir), chain("cdn.example.net"))) == 1


def test_an_invalid_entry_is_refused_with_the_message_and_nothing_is_written(
    stand_in: StandIn, splunkd: Any, app_dir: Path
) -> None:
    with pytest.raises(EntryError) as info:
        store(splunkd, app_dir).create("corp", {"destination": "10.1.0.0/33", "app_id": "*"})
    assert str(info.value) == "Allowed destination refused: CIDR '10.1.0.0/33' does not parse."
    assert stand_in.writes() == []
    assert stand_in.collections[DESTINATIONS] == []


def test_a_shipped_default_can_be_disabled_and_the_detection_honours_it(
    stand_in: StandIn, splunkd: Any, app_dir: Path
) -> None:
    events = chain("play.googleapis.com")
    assert findings(search_lookups(stand_in, app_dir), events) == []  # allowlisted by default

    entry = store(splunkd, app_dir).edit("shipped-play.googleapis.com", {"disabled": "1"})

    assert entry.values["disabled"] == "true"
    stored = {r["_key"]: r for r in stand_in.collections[DESTINATIONS]}
    assert stored["shipped-play.googleapis.com"]["disabled"] == "true"
    assert len(stored) == shipped_rows(app_dir, "allowed_destinations")  # the others stay, enabled
    assert len(findings(search_lookups(stand_in, app_dir), events)) == 1
    store(splunkd, app_dir).edit("shipped-play.googleapis.com", {"disabled": "0"})
    assert findings(search_lookups(stand_in, app_dir), events) == []


def test_deleting_a_shipped_default_is_refused_and_it_stays(
    stand_in: StandIn, splunkd: Any, app_dir: Path
) -> None:
    with pytest.raises(EntryError) as info:
        store(splunkd, app_dir).remove("shipped-play.googleapis.com")
    assert str(info.value) == (
        "Allowed destination 'shipped-play.googleapis.com' is a shipped default and cannot be deleted: "
        "edit it and tick Disabled to turn it off. It stays listed so you can turn it back on."
    )
    assert stand_in.writes() == []
    assert "shipped-play.googleapis.com" in [e.name for e in store(splunkd, app_dir).entries()]


def test_rewriting_a_shipped_default_is_refused(stand_in: StandIn, splunkd: Any, app_dir: Path) -> None:
    with pytest.raises(
        EntryError, match=r"is a shipped default: only Disabled can change \(you changed destination\)"
    ):
        store(splunkd, app_dir).edit("shipped-play.googleapis.com", {"destination": "evil.example"})
    assert stand_in.writes() == []


def test_a_users_entry_can_be_edited_and_deleted(stand_in: StandIn, splunkd: Any, app_dir: Path) -> None:
    tab = store(splunkd, app_dir)
    tab.create("corp", {"destination": "10.1.0.0/16"})
    tab.edit("corp", {"destination": "10.2.0.0/16"})
    assert {r["_key"]: r["destination"] for r in stand_in.collections[DESTINATIONS]}["corp"] == "10.2.0.0/16"
    tab.remove("corp")
    assert "corp" not in [r["_key"] for r in stand_in.collections[DESTINATIONS]]
    assert (
        "DELETE",
        f"/servicesNS/nobody/TA-mobile-ingress/storage/collections/data/{DESTINATIONS}/corp",
    ) in (stand_in.writes())


def test_an_invalid_edit_is_refused_and_the_entry_kept(
    stand_in: StandIn, splunkd: Any, app_dir: Path
) -> None:
    tab = store(splunkd, app_dir)
    tab.create("corp", {"destination": "10.1.0.0/16"})
    with pytest.raises(EntryError, match=r"CIDR '10\.1\.0\.0/99' does not parse"):
        tab.edit("corp", {"destination": "10.1.0.0/99"})
    assert {r["_key"]: r["destination"] for r in stand_in.collections[DESTINATIONS]}["corp"] == "10.1.0.0/16"


def test_an_entry_matching_the_same_as_another_is_refused(
    stand_in: StandIn, splunkd: Any, app_dir: Path
) -> None:
    with pytest.raises(EntryError) as info:
        store(splunkd, app_dir).create("again", {"destination": "PLAY.googleapis.com", "app_id": "*"})
    assert str(info.value) == (
        "Allowed destination refused: the entry 'shipped-play.googleapis.com' already matches the same "
        "(destination, app_id); edit that one instead."
    )


def test_a_name_in_use_is_refused(stand_in: StandIn, splunkd: Any, app_dir: Path) -> None:
    tab = store(splunkd, app_dir)
    tab.create("corp", {"destination": "10.1.0.0/16"})
    with pytest.raises(EntryError, match="'corp' already exists: choose another name"):
        tab.create("corp", {"destination": "10.3.0.0/16"})


def test_a_missing_entry_cannot_be_edited(stand_in: StandIn, splunkd: Any, app_dir: Path) -> None:
    with pytest.raises(EntryError, match="'nothing' does not exist"):
        store(splunkd, app_dir).edit("nothing", {"disabled": "1"})


def test_a_shipped_default_missing_from_the_collection_comes_back_with_the_next_change(
    stand_in: StandIn, splunkd: Any, app_dir: Path
) -> None:
    tab = store(splunkd, app_dir)
    tab.create("corp", {"destination": "10.1.0.0/16"})
    stand_in.collections[DESTINATIONS] = [
        r for r in stand_in.collections[DESTINATIONS] if r["_key"] != "shipped-play.googleapis.com"
    ]  # as after an upgrade that ships a new default, or an outputlookup by hand
    tab.create("corp2", {"destination": "10.4.0.0/16"})
    assert "shipped-play.googleapis.com" in [r["_key"] for r in stand_in.collections[DESTINATIONS]]


def test_a_local_csv_in_force_is_kept_by_the_first_change(
    stand_in: StandIn, splunkd: Any, app_dir: Path
) -> None:
    """The `_local` CSV replaced the shipped file; the first change keeps exactly that list in force
    (its rows, the shipped rows listed but disabled) plus the change."""
    (app_dir / "lookups" / f"{DESTINATIONS}_local.csv").write_text(
        "destination,app_id,comment\nupdates.example.org,*,in-house updates\n"
    )
    before = search_lookups(stand_in, app_dir)
    assert [d.pattern.text for d in before.allowed_destinations] == ["updates.example.org"]

    tab = store(splunkd, app_dir)
    listed = {e.name: e for e in tab.entries()}
    assert listed["local-updates.example.org"].origin == f"from {DESTINATIONS}_local.csv"
    assert listed["shipped-play.googleapis.com"].values["disabled"] == "true"
    tab.create("corp", {"destination": "10.1.0.0/16"})

    after = search_lookups(stand_in, app_dir)
    assert after.sources["allowed_destinations"] == f"KV store collection {DESTINATIONS}"
    # a collection is read in `_key` order (corp, local-updates.example.org, shipped-...)
    assert [d.pattern.text for d in after.allowed_destinations] == ["10.1.0.0/16", "updates.example.org"]


def test_a_local_csv_whose_header_is_lost_is_not_seeded(
    stand_in: StandIn, splunkd: Any, app_dir: Path
) -> None:
    """The detections set such a file aside (a warning, the shipped rows in force): the page shows
    and keeps the same list, never the file's rows under a header made of its first entry."""
    (app_dir / "lookups" / f"{DESTINATIONS}_local.csv").write_text(
        "updates.example.org,*,our updater\n*.example.net,*,everything of example.net\n"
    )
    entries = store(splunkd, app_dir).entries()
    assert {e.origin for e in entries} == {"shipped default"}
    assert all(e.values["disabled"] == "false" for e in entries)
    store(splunkd, app_dir).create("corp", {"destination": "10.1.0.0/16"})
    keys = [r["_key"] for r in stand_in.collections[DESTINATIONS]]
    assert not any(key.startswith("local-") for key in keys) and keys[-1] == "corp"


def test_an_allowed_app_suppresses_its_chain(stand_in: StandIn, splunkd: Any, app_dir: Path) -> None:
    events = chain("cdn.example.net")
    store(splunkd, app_dir, "allowed_apps").create(
        "game",
        {"platform": "android", "app_id": "com.example.game", "roles": "update", "comment": "store updater"},
    )
    assert findings(search_lookups(stand_in, app_dir), events) == []


def test_an_allowed_path_suppresses_its_chain(stand_in: StandIn, splunkd: Any, app_dir: Path) -> None:
    events = chain("cdn.example.net")
    store(splunkd, app_dir, "allowed_paths").create(
        "game-files",
        {
            "platform": "android",
            "app_id": "com.example.game",
            "path_pattern": "/data/data/com.example.game/files/**",
        },
    )
    assert findings(search_lookups(stand_in, app_dir), events) == []


def test_a_new_risk_pattern_makes_its_files_findings(stand_in: StandIn, splunkd: Any, app_dir: Path) -> None:
    events = chain("cdn.example.net", file_name="stage2.payload")
    assert findings(search_lookups(stand_in, app_dir), events) == []
    store(splunkd, app_dir, "file_risk_patterns").create(
        "payload-files",
        {"platform": "android", "field": "file_name", "pattern": "*.PAYLOAD", "risk_class": "executable"},
    )
    found = findings(search_lookups(stand_in, app_dir), events)
    assert [(f["file_path"], f["risk_class"]) for f in found] == [
        ("/data/data/com.example.game/files/stage2.payload", "executable")
    ]
    records = stand_in.collections["mobile_ingress_file_risk_patterns"]
    assert records[-1]["_key"] == "payload-files"  # after the shipped rows: the first match wins
    assert len(records) == shipped_rows(app_dir, "file_risk_patterns") + 1


def test_a_kv_store_failure_is_one_clear_error(stand_in: StandIn, splunkd: Any, app_dir: Path) -> None:
    from mobile_ingress_splunk.setup_splunkd import SplunkdError

    stand_in.failing.add("storage/collections/data/")
    with pytest.raises(SplunkdError, match=f"KV store collection {DESTINATIONS}: cannot read it"):
        store(splunkd, app_dir).create("corp", {"destination": "10.1.0.0/16"})


@pytest.mark.parametrize("tab", sorted(TABLES))
def test_every_shipped_default_has_a_distinct_valid_name(tab: str, app_dir: Path) -> None:
    from mobile_ingress_splunk.setup_entries import check_name

    names = [e.name for e in AllowlistStore(None, TABLES[tab], str(app_dir / "lookups")).shipped()]  # type: ignore[arg-type]
    assert len(names) == shipped_rows(app_dir, tab) and len(set(names)) == len(names)
    for name in names:
        assert name.startswith("shipped-")
        check_name(name, new=False)


def test_a_long_shipped_name_is_shortened_with_a_digest(app_dir: Path) -> None:
    names = [
        e.name for e in AllowlistStore(None, TABLES["allowed_paths"], str(app_dir / "lookups")).shipped()
    ]  # type: ignore[arg-type]
    assert all(len(n) <= len("shipped-") + 80 for n in names)
    digested = [n for n in names if re.fullmatch(r".+-[0-9a-f]{8}", n)]
    # the two iOS Application Support patterns and the adoptable-storage Chimera one, 100+ long
    assert len(digested) == 3


def test_the_search_command_itself_sees_the_change_at_its_next_run(
    stand_in: StandIn, splunkd: Any, app_dir: Path, tmp_path: Path
) -> None:
    """`ingresscorrelate` driven through the search command protocol, with the stand-in as the
    search's splunkd: one finding before the entry is added, none at the next run after."""
    from tests.splunk import scp

    from .standin import SESSION_KEY

    newest_first = sorted(chain("cdn.example.net"), key=lambda e: -e["_time"])

    def run() -> list[dict[str, str]]:
        result = scp.run(
            [], [newest_first], app_dir, tmp_path, splunkd_uri=stand_in.uri, session_key=SESSION_KEY
        )
        assert result.exit_code is None, result.messages
        return result.rows

    assert [row["dest"] for row in run()] == ["cdn.example.net"]
    store(splunkd, app_dir).create("example-cdn", {"destination": "cdn.example.net"})
    stand_in.requests.clear()
    assert run() == []
    assert ("GET", f"/servicesNS/nobody/TA-mobile-ingress/storage/collections/data/{DESTINATIONS}") in (
        stand_in.requests
    )


def test_a_large_save_goes_in_batches_in_order(stand_in: StandIn, splunkd: Any) -> None:
    from mobile_ingress_splunk.setup_splunkd import BATCH

    records = [{"_key": f"k{i}", "destination": f"h{i}.example"} for i in range(BATCH + 3)]
    splunkd.save(DESTINATIONS, records)
    assert [r["_key"] for r in stand_in.collections[DESTINATIONS]] == [r["_key"] for r in records]
    assert len(stand_in.writes()) == 2


def test_a_failed_write_is_one_clear_error(stand_in: StandIn, splunkd: Any, app_dir: Path) -> None:
    from mobile_ingress_splunk.setup_splunkd import SplunkdError

    stand_in.failing.add(f"storage/collections/data/{DESTINATIONS}/batch_save")
    with pytest.raises(SplunkdError) as info:
        store(splunkd, app_dir).create("corp", {"destination": "10.1.0.0/16"})
    assert str(info.value).startswith(
        f"saving {shipped_rows(app_dir, 'allowed_destinations') + 1} entries to the KV store collection "
        f"{DESTINATIONS}: splunkd answered 503"
    )
