from __future__ import annotations

from pathlib import Path

import pytest

from mobile_ingress.engine.lookups import (
    COLUMNS,
    LOOKUP_NAMES,
    Lookups,
    Row,
    catch_all,
    csv_file_source,
    rows_from_csv,
)

from .support import SHIPPED, make_lookups

CONTRACT_HEADERS = {
    "allowed_apps": "platform,app_id,roles,comment",
    "allowed_destinations": "destination,app_id,comment",
    "allowed_paths": "platform,app_id,path_pattern,comment",
    "file_risk_patterns": "platform,field,pattern,risk_class",
    "destination_baseline": "app_id,dest,first_seen,last_seen,count",
    "managed_apps": "platform,app_id,managed,approved_roles,source",
    "device_inventory": "device_id,platform,ip,user,first_seen,last_seen",
}


@pytest.mark.parametrize("name", LOOKUP_NAMES)
def test_shipped_lookups_have_the_contract_headers_and_load_without_warnings(name: str) -> None:
    text = (SHIPPED / f"mobile_ingress_{name}.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == CONTRACT_HEADERS[name] == ",".join(COLUMNS[name])
    tables = Lookups.load({name: [csv_file_source(str(SHIPPED / f"mobile_ingress_{name}.csv"))]})
    assert tables.warnings == []


def test_shipped_risk_patterns_cover_every_default_the_contract_lists() -> None:
    rows = {(r.platform, r.field, r.pattern.lower()) for r in make_lookups().risk_patterns}
    android = [
        "*.apk",
        "*.dex",
        "*.odex",
        "*.vdex",
        "*.oat",
        "*.jar",
        "*.so",
        "*.zip",
        "*.html",
        "*.htm",
        "*.js",
        "*.bundle",
    ]
    ios = ["*.dylib", "*.ipa", "*.zip", "*.html", "*.htm", "*.js", "*.jsbundle"]
    for pattern in android:
        assert ("android", "file_name", pattern) in rows
    for pattern in ios:
        assert ("ios", "file_name", pattern) in rows
    for mime in [
        "application/vnd.android.package-archive",
        "application/java-archive",
        "application/zip",
        "application/x-sharedlib",
        "text/html",
    ]:
        assert ("android", "file_type", mime) in rows
    for mime in ["application/zip", "application/x-mach-binary", "text/html"]:
        assert ("ios", "file_type", mime) in rows
    assert ("ios", "file_path", "**/*.framework/**") in rows and (
        "ios",
        "file_path",
        "**/*.bundle/**",
    ) in rows
    assert ("android", "file_name", "<noext>") in rows and ("ios", "file_name", "<noext>") in rows


def test_shipped_allowed_paths_never_allow_a_whole_cache_folder_or_the_providers() -> None:
    for row in make_lookups().allowed_paths:
        assert not row.pattern.rstrip("/*").endswith("/cache"), row.pattern
        assert row.app_id not in ("com.android.providers.downloads", "com.android.providers.media")


def test_first_non_empty_source_replaces_the_others(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("app_id,dest,first_seen,last_seen,count\n")
    local = tmp_path / "local.csv"
    local.write_text("app_id,dest,first_seen,last_seen,count\ncom.a,a.example,,,1\n")
    shipped = tmp_path / "shipped.csv"
    shipped.write_text("app_id,dest,first_seen,last_seen,count\ncom.b,b.example,,,1\ncom.c,c.example,,,1\n")
    sources = [csv_file_source(str(p)) for p in (tmp_path / "missing.csv", empty, local, shipped)]
    tables = Lookups.load({"destination_baseline": sources})
    assert [row.app_id for row in tables.baseline] == ["com.a"]
    assert tables.sources["destination_baseline"] == str(local)


def test_disabled_rows_are_removed_and_a_bom_is_stripped() -> None:
    rows = rows_from_csv(
        "\ufeffplatform,app_id,roles,comment,disabled\nandroid,com.a,browser,,true\n"
        "android,com.b,browser,,false\n",
        "x.csv",
    )
    tables = Lookups.from_rows({"allowed_apps": rows})
    assert [row.app_id for row in tables.allowed_apps] == ["com.b"]


@pytest.mark.parametrize(
    ("name", "row", "words"),
    [
        ("allowed_destinations", {"destination": "10.0.0.0/33", "app_id": "*"}, "CIDR"),
        ("allowed_paths", {"platform": "android", "app_id": "*", "path_pattern": ""}, "empty glob"),
        (
            "file_risk_patterns",
            {"platform": "android", "field": "size", "pattern": "*", "risk_class": "package"},
            "field",
        ),
        (
            "file_risk_patterns",
            {"platform": "android", "field": "file_name", "pattern": "*.x", "risk_class": "evil"},
            "risk_class",
        ),
        ("allowed_apps", {"platform": "android", "app_id": "", "roles": "browser"}, "every app"),
        (
            "managed_apps",
            {"platform": "ios", "app_id": "com.a", "managed": "perhaps", "approved_roles": ""},
            "boolean",
        ),
    ],
)
def test_bad_lookup_rows_are_skipped_with_a_warning_naming_the_row(name: str, row: dict, words: str) -> None:
    tables = make_lookups({name: [row]})
    assert (
        len(tables.warnings) == 1 and words in tables.warnings[0] and f"case:{name}:2" in tables.warnings[0]
    )


def test_a_row_without_the_lookups_columns_is_one_warning_not_a_failed_search() -> None:
    rows = rows_from_csv("dest\nx.example\n", "bad.csv")
    tables = Lookups.from_rows({"destination_baseline": rows})
    assert tables.baseline == []
    assert len(tables.warnings) == 1 and "bad.csv:2" in tables.warnings[0] and "app_id" in tables.warnings[0]


def test_a_kv_record_missing_a_column_is_one_warning_and_the_other_rows_stay() -> None:
    rows = [
        Row({"platform": "ios", "managed": "true", "approved_roles": "", "source": "jamf"}, "kv:a"),
        Row({"platform": "ios", "app_id": "com.acme.notes", "managed": "true", "source": "jamf"}, "kv:b"),
        Row({"platform": "ios", "app_id": "com.acme.game", "managed": "true", "approved_roles": ""}, "kv:c"),
    ]
    tables = Lookups.from_rows({"managed_apps": rows})
    assert sorted(app for _, app in tables.managed_apps) == ["com.acme.game"]
    assert len(tables.warnings) == 2
    assert "kv:a" in tables.warnings[0] and "app_id" in tables.warnings[0]
    assert "kv:b" in tables.warnings[1] and "approved_roles" in tables.warnings[1]


def _local_and_shipped(tmp_path: Path, local_text: str) -> Lookups:
    local = tmp_path / "mobile_ingress_allowed_paths_local.csv"
    local.write_text(local_text, encoding="utf-8")
    shipped = SHIPPED / "mobile_ingress_allowed_paths.csv"
    sources = [csv_file_source(str(local)), csv_file_source(str(shipped))]
    return Lookups.load({"allowed_paths": sources})


def test_a_local_csv_without_its_header_line_is_set_aside_with_a_warning(tmp_path: Path) -> None:
    tables = _local_and_shipped(tmp_path, "android,*,/data/data/*/files/**,every files folder\n"
                                          "android,*,/data/data/*/cache/WebView/**,webview\n")
    assert len(tables.warnings) == 1
    warning = tables.warnings[0]
    assert "mobile_ingress_allowed_paths_local.csv" in warning and "lacks column(s) platform" in warning
    assert "header line missing" in warning
    shipped = {row.pattern for row in make_lookups().allowed_paths}
    assert {row.pattern for row in tables.allowed_paths} == shipped  # the next source, not the bad file


def test_a_local_csv_whose_header_repeats_a_column_is_set_aside_with_a_warning(tmp_path: Path) -> None:
    tables = _local_and_shipped(
        tmp_path, "platform,app_id,path_pattern,app_id,comment\nandroid,com.a,/data/data/com.a/x/**,*,c\n"
    )
    assert len(tables.warnings) == 1 and "repeats column(s) app_id" in tables.warnings[0]
    assert all(row.pattern != "/data/data/com.a/x/**" for row in tables.allowed_paths)


def test_a_local_csv_with_its_header_is_used_without_a_warning(tmp_path: Path) -> None:
    tables = _local_and_shipped(
        tmp_path,
        "platform,app_id,path_pattern,comment,extra,extra\nandroid,com.a,/data/data/com.a/x/**,c,1,2\n",
    )
    assert tables.warnings == []
    assert [row.pattern for row in tables.allowed_paths] == ["/data/data/com.a/x/**"]


def test_a_lookup_cell_over_128_kib_is_read(tmp_path: Path) -> None:
    """The csv module's default cell limit raised mid-file; a long comment is no error."""
    path = tmp_path / "mobile_ingress_allowed_apps.csv"
    path.write_text(
        "platform,app_id,roles,comment\nandroid,com.a,browser," + "x" * 200_000 + "\nandroid,com.b,sync,ok\n",
        encoding="utf-8",
    )
    tables = Lookups.load({"allowed_apps": [csv_file_source(str(path))]})
    assert [row.app_id for row in tables.allowed_apps] == ["com.a", "com.b"]


@pytest.mark.parametrize(
    ("name", "values", "words"),
    [
        ("allowed_apps", {"app_id": "*"}, "name the app"),
        ("allowed_destinations", {"destination": "*", "app_id": "*"}, "exact host"),
        ("allowed_destinations", {"destination": "0.0.0.0/0", "app_id": ""}, "exact host"),
        ("allowed_destinations", {"destination": "::/0", "app_id": "*"}, "exact host"),
        ("allowed_destinations", {"destination": "::ffff:0:0/96", "app_id": "*"}, "exact host"),
        ("allowed_destinations", {"destination": "*.com", "app_id": "*"}, "top-level domain"),
        ("allowed_paths", {"path_pattern": "**", "app_id": "*"}, "cache folder"),
        ("allowed_paths", {"path_pattern": "/*/**", "app_id": ""}, "cache folder"),
        ("file_risk_patterns", {"pattern": "*", "field": "file_name"}, "extension"),
    ],
)
def test_a_catch_all_row_is_named_with_the_safer_alternative(name: str, values: dict, words: str) -> None:
    reason = catch_all(name, values)
    assert reason is not None and words in reason


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("allowed_apps", {"app_id": "com.example.mdm"}),
        ("allowed_destinations", {"destination": "*", "app_id": "com.example.mdm"}),
        ("allowed_destinations", {"destination": "10.0.0.0/8", "app_id": "*"}),
        ("allowed_destinations", {"destination": "*.example.com", "app_id": "*"}),
        ("allowed_paths", {"path_pattern": "**", "app_id": "com.example.mdm"}),
        ("allowed_paths", {"path_pattern": "/data/data/*/cache/x/**", "app_id": "*"}),
        ("file_risk_patterns", {"pattern": "*.dex", "field": "file_name"}),
    ],
)
def test_a_scoped_row_is_no_catch_all(name: str, values: dict) -> None:
    assert catch_all(name, values) is None
