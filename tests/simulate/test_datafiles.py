"""The simulator's data files (simulate/data/) and their loader (simulate/datafiles.py).

Positive tests load the shipped files; each negative test edits one entry of a copy and checks the
loader names the file, the entry and the field, and says what is wrong.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from mobile_ingress.simulate import cases, catalog
from mobile_ingress.simulate.datafiles import (
    DATA_DIR,
    App,
    Chain,
    DataError,
    RetrievalOnly,
    load_apps,
    load_case_table,
    load_fleet,
    load_managed_apps,
)
from mobile_ingress.simulate.model import Device

APPS = {(a.platform, a.app_id): a for a in load_apps()}
FLEET = load_fleet(APPS)


def _edited_yaml(tmp_path: Path, name: str, edit: Callable[[Any], None]) -> Path:
    data = yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _edited_text(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _first_case(data: Any) -> dict[str, Any]:
    case: dict[str, Any] = data["cases"][0]
    assert case["label"] == "dex_dexclassloader_background"
    return case


def _case_error(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> DataError:
    path = _edited_yaml(tmp_path, "cases.yaml", lambda data: edit(_first_case(data)))
    with pytest.raises(DataError) as info:
        load_case_table(FLEET, path)
    return info.value


# ---------------------------------------------------------------------------- the shipped files
def test_shipped_app_catalogue_loads_into_typed_apps() -> None:
    whatsapp = APPS[("android", "com.whatsapp")]
    assert whatsapp == App(
        "com.whatsapp",
        "android",
        "messaging",
        ("g.whatsapp.net", "mmg.whatsapp.net", "static.whatsapp.net"),
        6.0,
        0.85,
        ("media",),
    )
    assert {a.platform for a in APPS.values()} == {"android", "ios"}


def test_shipped_case_table_loads_every_label_once_in_file_order() -> None:
    table = load_case_table(FLEET)
    raw = yaml.safe_load((DATA_DIR / "cases.yaml").read_text(encoding="utf-8"))
    assert [c.label for c in table.cases] == [c["label"] for c in raw["cases"]]
    assert [c.label for c in cases.CASES] == [c.label for c in table.cases]


def test_a_chain_case_takes_expected_and_clause_from_the_case() -> None:
    case = next(c for c in load_case_table(FLEET).cases if c.label == "nm_file_after_window")
    assert case.plan == Chain(
        kind="dex", delta_s=310.0, expected=False, clause="3 chain: F later than R + time_window"
    )


def test_a_retrieval_only_case_loads_as_retrieval_only() -> None:
    case = next(c for c in load_case_table(FLEET).cases if c.label == "ios_retrieval_only_summed_bytes")
    assert case.plan == RetrievalOnly(app="managed_no_role", bytes_mode="normal", repeat=False, summed=True)


def test_catalog_names_are_the_data_files_entries() -> None:
    assert list(FLEET.app_pools["stager"]["android"]) == catalog.ANDROID_STAGERS
    assert catalog.MANAGED[("ios", "com.acmecorp.docsync")] == "sync|content_delivery"
    assert catalog.UNMANAGED_LISTED == [("ios", "com.spotify.client"), ("android", "com.spotify.music")]
    assert catalog.ENTERPRISE_ALLOWED[1][0] == "198.51.100.0/24"


# ---------------------------------------------------------------------------- name patterns
def _builder(seed: int) -> cases.CaseBuilder:
    device = Device(0, "and-00000", "android", "alex.smith@acmecorp.com", "10.20.0.2", 1.0)
    return cases.CaseBuilder(None, random.Random(seed), "names", [device], 0, seed)


def test_a_list_of_name_patterns_renders_every_one_before_picking() -> None:
    """As the Python list literal it replaced: ["classes2.dex", ..., f"p{b.hexs(6)}.dex"] drew the
    word and the hex digits first, then picked one."""
    dex = cases.TABLE.payloads["android"]["dex"].name
    for seed in range(20):
        b, ref = _builder(seed), _builder(seed)
        expected = ref.rng.choice(["classes2.dex", "update.dex", f"{ref.word()}.dex", f"p{ref.hexs(6)}.dex"])
        assert cases.render_name(b, dex) == expected
        assert b.rng.random() == ref.rng.random()


def test_a_single_name_pattern_draws_no_pick() -> None:
    so = cases.TABLE.payloads["android"]["so"].name
    b, ref = _builder(3), _builder(3)
    expected = f"lib{ref.word()}{ref.rng.choice(['', '_jni', 'native'])}.so"
    assert cases.render_name(b, so) == expected
    assert b.rng.random() == ref.rng.random()


def test_an_unknown_name_token_is_refused(tmp_path: Path) -> None:
    def edit(data: Any) -> None:
        data["payloads"]["android"]["jar"]["name"] = "{wrd}.jar"

    with pytest.raises(DataError) as info:
        load_case_table(FLEET, _edited_yaml(tmp_path, "cases.yaml", edit))
    assert str(info.value) == (
        "cases.yaml: payloads.android.jar, field 'name': unknown name token {wrd} "
        "(known: {word}, {Word}, {hex:1..64}, {pick:a|b|...})"
    )


# ---------------------------------------------------------------------------- cases.yaml
def test_a_case_without_a_required_field_names_it(tmp_path: Path) -> None:
    err = _case_error(tmp_path, lambda case: case.pop("clause"))
    assert (err.file, err.entry, err.field) == (
        "cases.yaml",
        "cases[0] (dex_dexclassloader_background)",
        "clause",
    )
    assert str(err) == "cases.yaml: cases[0] (dex_dexclassloader_background), field 'clause': missing field"


def test_an_unknown_chain_field_is_refused(tmp_path: Path) -> None:
    err = _case_error(tmp_path, lambda case: case["chain"].update(colour="red"))
    assert err.entry == "cases[0] (dex_dexclassloader_background) chain"
    assert err.field == "colour"
    assert str(err).endswith(
        "unknown field (known: kind, where, app, delta_s, mood, load, handoff, unpack, "
        "repeat, r_mode, method, f_mode, bytes_mode, dest_mode, url_names, whole_seconds, "
        "rank_decoy, recreate)"
    )


def test_a_clause_inside_the_chain_is_an_unknown_field(tmp_path: Path) -> None:
    """expected and clause belong to the case, never to its chain (one place each)."""
    err = _case_error(tmp_path, lambda case: case["chain"].update(clause="x"))
    assert (err.field, err.problem.split(" (")[0]) == ("clause", "unknown field")


def test_a_field_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    err = _case_error(tmp_path, lambda case: case.update(expected="yes"))
    assert str(err) == (
        "cases.yaml: cases[0] (dex_dexclassloader_background), field 'expected': "
        "expected true or false, got a string ('yes')"
    )


def test_a_number_field_refuses_true(tmp_path: Path) -> None:
    err = _case_error(tmp_path, lambda case: case["chain"].update(delta_s=True))
    assert (err.field, err.problem) == ("delta_s", "expected a number or null, got true or false (True)")


def test_a_value_outside_its_closed_set_is_refused(tmp_path: Path) -> None:
    err = _case_error(tmp_path, lambda case: case["chain"].update(dest_mode="evil"))
    assert err.field == "dest_mode"
    assert err.problem.startswith("'evil' is not one of allowlisted, allowlisted_case_dot, bad, ")


def test_a_payload_kind_of_the_other_platform_is_refused(tmp_path: Path) -> None:
    err = _case_error(tmp_path, lambda case: case["chain"].update(kind="dylib"))
    assert (err.field, err.problem.split(" is not")[0]) == ("kind", "'dylib'")


def test_an_app_pool_without_apps_on_the_case_platform_is_refused(tmp_path: Path) -> None:
    err = _case_error(tmp_path, lambda case: case["chain"].update(app="managed_role"))
    assert err.field == "app"
    assert err.problem.startswith("'managed_role' is not one of")


def test_a_case_with_both_chain_and_retrieval_only_is_refused(tmp_path: Path) -> None:
    err = _case_error(
        tmp_path, lambda case: case.update(retrieval_only={"app": "stager", "bytes_mode": "normal"})
    )
    assert (err.field, err.problem) == (None, "expected exactly one of chain and retrieval_only")


def test_a_label_listed_twice_is_refused(tmp_path: Path) -> None:
    path = _edited_yaml(tmp_path, "cases.yaml", lambda data: data["cases"].append(dict(data["cases"][0])))
    with pytest.raises(DataError) as info:
        load_case_table(FLEET, path)
    assert (info.value.field, info.value.problem) == ("label", "listed twice")
    assert info.value.entry.endswith("(dex_dexclassloader_background)")


def test_a_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text("cases: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_case_table(FLEET, path)
    assert (info.value.file, info.value.entry) == ("cases.yaml", "document")
    assert info.value.problem.startswith("not YAML")


# ---------------------------------------------------------------------------- fleet.yaml
def test_a_pool_app_missing_from_the_catalogue_is_refused(tmp_path: Path) -> None:
    path = _edited_yaml(tmp_path, "fleet.yaml", lambda d: d["app_pools"]["stager"]["ios"].append("com.nope"))
    with pytest.raises(DataError) as info:
        load_fleet(APPS, path)
    assert (
        str(info.value)
        == "fleet.yaml: app_pools.stager, field 'ios[4]': ios app 'com.nope' is not in apps.csv"
    )


def test_the_stager_pool_is_required(tmp_path: Path) -> None:
    path = _edited_yaml(tmp_path, "fleet.yaml", lambda d: d["app_pools"].pop("stager"))
    with pytest.raises(DataError) as info:
        load_fleet(APPS, path)
    assert (info.value.entry, info.value.field) == ("app_pools", "stager")


# ---------------------------------------------------------------------------- the CSV files
def test_an_app_row_with_a_bad_number_names_its_line(tmp_path: Path) -> None:
    path = _edited_text(tmp_path, "apps.csv", "com.whatsapp,messaging,6.0,", "com.whatsapp,messaging,often,")
    with pytest.raises(DataError) as info:
        load_apps(path)
    assert (
        str(info.value) == "apps.csv: line 2 (com.whatsapp), field 'weight': expected a number, got 'often'"
    )


def test_an_unknown_app_feature_is_refused(tmp_path: Path) -> None:
    path = _edited_text(
        tmp_path,
        "apps.csv",
        "6.0,0.85,g.whatsapp.net mmg.whatsapp.net static.whatsapp.net,media",
        "6.0,0.85,g.whatsapp.net mmg.whatsapp.net static.whatsapp.net,media teleport",
    )
    with pytest.raises(DataError) as info:
        load_apps(path)
    assert (info.value.field, info.value.problem.split(" is not")[0]) == ("features", "'teleport'")


def test_a_missing_csv_column_is_refused(tmp_path: Path) -> None:
    path = _edited_text(tmp_path, "apps.csv", ",features\n", "\n")
    with pytest.raises(DataError) as info:
        load_apps(path)
    assert str(info.value) == "apps.csv: header, field 'features': missing column"


def test_an_unknown_csv_column_is_refused(tmp_path: Path) -> None:
    path = _edited_text(tmp_path, "apps.csv", ",features\n", ",features,colour\n")
    with pytest.raises(DataError) as info:
        load_apps(path)
    assert (info.value.entry, info.value.field) == ("header", "colour")
    assert info.value.problem.startswith("unknown column")


def test_a_row_with_too_few_cells_is_refused(tmp_path: Path) -> None:
    path = _edited_text(
        tmp_path,
        "managed_apps.csv",
        "android,com.microsoft.teams,true,\n",
        "android,com.microsoft.teams,true\n",
    )
    with pytest.raises(DataError) as info:
        load_managed_apps(APPS, path)
    assert str(info.value) == "managed_apps.csv: line 3: 3 cells, the header has 4"


def test_a_managed_app_missing_from_the_catalogue_is_refused(tmp_path: Path) -> None:
    path = _edited_text(tmp_path, "managed_apps.csv", "android,com.Slack,", "android,com.slack,")
    with pytest.raises(DataError) as info:
        load_managed_apps(APPS, path)
    assert str(info.value) == (
        "managed_apps.csv: line 4 (com.slack), field 'app_id': android app 'com.slack' is not in apps.csv"
    )
