"""Static checks of the app's knowledge objects: collections, lookups, macros, saved searches.

No SPL can run here, so the searches are checked by reading them: every macro, lookup, collection
and command a search names exists, `$token$`s are fields the search emits, the dispatch window
covers the correlation window, and the rendered prefilter is the engine's declaration.
They read the confs in package/default (what the build copies into the app).
"""

from __future__ import annotations

from pathlib import Path

from mobile_ingress.engine.lookups import COLUMNS

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "package" / "default"
LOOKUPS = ROOT / "package" / "lookups"


def read_conf(path: Path) -> dict[str, dict[str, str]]:
    """Stanzas of a .conf file: `#` comments, `key = value`, a trailing `\\` continues a line."""
    stanzas: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            name = stripped[1:-1]
            assert name not in stanzas, f"{path.name}: stanza [{name}] twice"
            current = stanzas[name] = {}
            continue
        assert current is not None, f"{path.name}: key outside a stanza: {line!r}"
        while line.endswith("\\") and i < len(lines):
            line = line[:-1] + "\n" + lines[i]
            i += 1
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not key = value: {line!r}"
        key = key.strip()
        assert key not in current, f"{path.name}: {key} twice in a stanza"
        current[key] = value.strip()
    return stanzas


def fields_list(stanza: dict[str, str]) -> list[str]:
    return [name.strip() for name in stanza["fields_list"].split(",")]


def test_every_contract_lookup_has_a_csv_and_a_kv_definition() -> None:
    transforms = read_conf(DEFAULT / "transforms.conf")
    for name, columns in COLUMNS.items():
        full = "mobile_ingress_" + name
        assert transforms[full]["filename"] == full + ".csv"
        kv = transforms[full + "_kv"]
        assert kv["external_type"] == "kvstore"
        assert kv["collection"] == full
        listed = [column for column in fields_list(kv) if column not in ("_key", "disabled")]
        assert listed == list(columns), full
    assert transforms["mobile_ingress_findings"]["collection"] == "mobile_ingress_findings"


def test_every_collection_a_lookup_names_exists_with_its_fields() -> None:
    transforms = read_conf(DEFAULT / "transforms.conf")
    collections = read_conf(DEFAULT / "collections.conf")
    for name, stanza in transforms.items():
        assert name.startswith("mobile_ingress_")
        if "collection" in stanza:
            collection = stanza["collection"]
            assert collection in collections, f"{name}: collection {collection} missing"
            declared = {key[len("field.") :] for key in collections[collection] if key.startswith("field.")}
            assert set(fields_list(stanza)) - {"_key"} <= declared, name
    assert set(collections) == {"mobile_ingress_" + name for name in COLUMNS} | {"mobile_ingress_findings"}


def test_every_lookup_file_exists() -> None:
    transforms = read_conf(DEFAULT / "transforms.conf")
    for name, stanza in transforms.items():
        if "filename" in stanza:
            assert (LOOKUPS / stanza["filename"]).is_file(), name


def test_findings_store_holds_every_finding_field() -> None:
    from mobile_ingress.engine.findings import FIELDS

    transforms = read_conf(DEFAULT / "transforms.conf")
    assert fields_list(transforms["mobile_ingress_findings"]) == ["_key", *FIELDS, "src", "dvc"]


def test_scalar_macros_equal_the_engine_defaults() -> None:
    from dataclasses import fields

    from mobile_ingress.engine.settings import Settings, parse_setting

    macros = read_conf(DEFAULT / "macros.conf")
    defaults = Settings()
    for item in fields(Settings):
        stanza = macros["mobile_ingress_" + item.name]
        assert "args" not in stanza
        assert parse_setting(item.name, stanza["definition"]) == getattr(defaults, item.name), item.name


def test_data_macros_constrain_index_and_sourcetype() -> None:
    macros = read_conf(DEFAULT / "macros.conf")
    for name in ("mobile_ingress_edr", "mobile_ingress_flow", "mobile_ingress_mdm"):
        definition = macros[name]["definition"]
        assert definition.startswith("(") and definition.endswith(")"), name
        assert "index=" in definition and "sourcetype=" in definition, name


def test_every_macro_is_prefixed() -> None:
    assert all(name.startswith("mobile_ingress_") for name in read_conf(DEFAULT / "macros.conf"))
