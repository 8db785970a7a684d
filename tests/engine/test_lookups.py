from __future__ import annotations

from pathlib import Path

import pytest

from mobile_ingress.engine.errors import LookupFileError
from mobile_ingress.engine.lookups import COLUMNS, LOOKUP_NAMES, Lookups, csv_file_source, rows_from_csv

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


def test_a_lookup_without_its_columns_fails_with_the_missing_names() -> None:
    rows = rows_from_csv("dest\nx.example\n", "bad.csv")
    with pytest.raises(LookupFileError, match="app_id"):
        Lookups.from_rows({"destination_baseline": rows})
