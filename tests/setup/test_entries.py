"""One entry's validation: the engine's own lookup reader decides, the page words the refusal."""

from __future__ import annotations

import pytest
from mobile_ingress_splunk.setup_entries import TABLES, EntryError, check_name, normalize, validate

DEST = TABLES["allowed_destinations"]
PATHS = TABLES["allowed_paths"]
APPS = TABLES["allowed_apps"]
RISK = TABLES["file_risk_patterns"]


def refusal(table: object, values: dict[str, object]) -> str:
    with pytest.raises(EntryError) as info:
        validate(table, normalize(table, values))  # type: ignore[arg-type]
    return str(info.value)


@pytest.mark.parametrize(
    "destination", ["cdn.example.net", "*.example.net", "192.0.2.7", "10.0.0.0/8", "2001:db8::/32"]
)
def test_a_destination_the_engine_reads_is_accepted(destination: str) -> None:
    validate(DEST, normalize(DEST, {"destination": destination, "app_id": "*"}))


def test_a_cidr_that_does_not_parse_is_refused_with_the_engines_reason() -> None:
    assert refusal(DEST, {"destination": "10.0.0.0/33", "app_id": "*"}) == (
        "Allowed destination refused: CIDR '10.0.0.0/33' does not parse."
    )


def test_a_host_suffix_on_an_ip_is_refused() -> None:
    assert refusal(DEST, {"destination": "*.10.0.0.1"}) == (
        "Allowed destination refused: host suffix '*.10.0.0.1' is not a host name."
    )


def test_a_glob_path_is_accepted() -> None:
    validate(
        PATHS,
        normalize(PATHS, {"platform": "android", "app_id": "*", "path_pattern": "/data/data/*/files/x/**"}),
    )


def test_an_empty_glob_is_refused() -> None:
    assert refusal(PATHS, {"platform": "android", "app_id": "*", "path_pattern": "   "}) == (
        "Allowed path refused: path_pattern is empty (an empty glob matches nothing)."
    )


def test_an_empty_risk_pattern_is_refused() -> None:
    assert refusal(
        RISK, {"platform": "ios", "field": "file_name", "pattern": "", "risk_class": "script"}
    ) == ("File risk pattern refused: pattern is empty (an empty glob matches nothing).")


def test_noext_is_accepted_on_file_name_only() -> None:
    validate(
        RISK,
        normalize(
            RISK, {"platform": "*", "field": "file_name", "pattern": "<noext>", "risk_class": "opaque"}
        ),
    )
    assert refusal(
        RISK, {"platform": "*", "field": "file_path", "pattern": "<noext>", "risk_class": "opaque"}
    ) == ("File risk pattern refused: <noext> applies to file_name only.")


def test_an_unknown_risk_class_is_refused() -> None:
    assert refusal(
        RISK, {"platform": "ios", "field": "file_name", "pattern": "*.x", "risk_class": "evil"}
    ) == (
        "File risk pattern refused: risk_class 'evil' is not one of package, executable, library, "
        "archive, script, overlay, opaque."
    )


def test_an_app_with_known_roles_is_accepted() -> None:
    validate(
        APPS, normalize(APPS, {"platform": "android", "app_id": "com.example.mdm", "roles": "update|sync"})
    )


def test_an_unknown_role_is_refused_rather_than_ignored() -> None:
    assert refusal(
        APPS, {"platform": "android", "app_id": "com.example.mdm", "roles": "update|anything"}
    ) == (
        "Allowed app refused: unknown role(s) anything (known: browser, app_store, update, sync, "
        "content_delivery, download)."
    )


def test_allowlisting_every_app_is_refused() -> None:
    assert refusal(APPS, {"platform": "android", "app_id": "*", "roles": ""}) == (
        "Allowed app refused: app_id '*' (or empty) would allowlist every app; name the app and its "
        "roles instead."
    )


@pytest.mark.parametrize("destination", ["*", "0.0.0.0/0", "::/0", "*.com"])
@pytest.mark.parametrize("app_id", ["*", ""])
def test_a_catch_all_destination_for_every_app_is_refused_naming_the_safer_entry(
    destination: str, app_id: str
) -> None:
    text = refusal(DEST, {"destination": destination, "app_id": app_id})
    assert text.startswith("Allowed destination refused: destination ")
    assert "for every app would allowlist" in text and "name the vendor's exact host" in text


def test_a_catch_all_destination_for_one_app_is_accepted() -> None:
    """Every destination for one app is what an allowed app is (refused only for every app)."""
    validate(DEST, normalize(DEST, {"destination": "*", "app_id": "com.example.mdm"}))


@pytest.mark.parametrize("pattern", ["**", "/**", "**/**", "/*/**", "**/*"])
def test_a_catch_all_path_for_every_app_is_refused_naming_the_safer_entry(pattern: str) -> None:
    text = refusal(PATHS, {"platform": "android", "app_id": "*", "path_pattern": pattern})
    assert text.startswith("Allowed path refused: path_pattern ") and "name the cache folder" in text


def test_a_catch_all_path_for_one_app_is_accepted() -> None:
    entry = {"platform": "android", "app_id": "com.example.mdm", "path_pattern": "**"}
    validate(PATHS, normalize(PATHS, entry))


@pytest.mark.parametrize("pattern", ["*", "**", "?*"])
def test_a_risk_pattern_matching_every_file_is_refused(pattern: str) -> None:
    entry = {"platform": "android", "field": "file_name", "pattern": pattern, "risk_class": "opaque"}
    text = refusal(RISK, entry)
    assert "would make every file risky" in text and "name the extension" in text


def test_an_unknown_platform_is_refused() -> None:
    assert refusal(APPS, {"platform": "windows", "app_id": "com.example"}) == (
        "Allowed app refused: platform 'windows' is not android, ios or *."
    )


def test_a_disabled_entry_must_still_be_valid() -> None:
    assert "does not parse" in refusal(DEST, {"destination": "10.0.0.0/33", "disabled": "1"})


def test_disabled_is_stored_as_true_or_false() -> None:
    assert normalize(DEST, {"destination": "a.example", "disabled": "1"})["disabled"] == "true"
    assert normalize(DEST, {"destination": "a.example", "disabled": "0"})["disabled"] == "false"
    assert normalize(DEST, {"destination": "a.example"})["disabled"] == "false"


def test_a_disabled_value_that_is_no_boolean_is_refused() -> None:
    with pytest.raises(EntryError, match=r"^Disabled must be true or false, got 'maybe'\.$"):
        normalize(DEST, {"destination": "a.example", "disabled": "maybe"})


def test_a_plain_name_is_accepted() -> None:
    check_name("corp-cdn_2.eu", new=True)


@pytest.mark.parametrize("name", ["", "_hidden", "has space", "a/b", "x" * 101])
def test_a_name_outside_the_rule_is_refused(name: str) -> None:
    with pytest.raises(EntryError, match="is not allowed: use 1 to 100 letters"):
        check_name(name, new=True)


def test_the_shipped_prefix_is_kept_for_shipped_defaults() -> None:
    with pytest.raises(EntryError, match="kept for the add-on's shipped defaults"):
        check_name("shipped-mine", new=True)
    check_name("shipped-mine", new=False)
