"""What an admin reads inside Splunk matches what ships: the setup page's help texts point only at
files the package ships, and the app's README.txt names every saved search, command and dashboard
it ships (it once said the command, inputs, searches and dashboards "come in later releases")."""

from __future__ import annotations

import json
import re
from typing import Any

from .test_knowledge_objects import DEFAULT, ROOT, read_conf

PACKAGE = ROOT / "package"
README = (PACKAGE / "README.txt").read_text(encoding="utf-8")


def texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k in ("help", "description") and isinstance(v, str)]
        return found + [t for v in node.values() for t in texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in texts(v)]
    return []


def test_setup_page_help_points_only_at_files_the_package_ships() -> None:
    help_texts = texts(json.loads((ROOT / "globalConfig.json").read_text(encoding="utf-8")))
    assert help_texts
    named = {m for text in help_texts for m in re.findall(r"[\w./-]+\.(?:md|txt)\b", text)}
    assert named, "no help text points at the app's documentation"
    assert all((PACKAGE / name).is_file() for name in named), named


def shipped_names() -> list[str]:
    """Every saved search, command and dashboard label the app ships."""
    names = list(read_conf(DEFAULT / "savedsearches.conf")) + list(read_conf(DEFAULT / "commands.conf"))
    for view in (DEFAULT / "data" / "ui" / "views").glob("mobile_ingress_*.xml"):
        label = re.search(r"<label>(.*)</label>", view.read_text(encoding="utf-8"))
        assert label, view.name
        names.append(label.group(1))
    return names


def unnamed(readme: str, names: list[str]) -> list[str]:
    return [name for name in names if name not in readme]


def test_the_apps_readme_names_every_saved_search_command_and_dashboard() -> None:
    assert len(shipped_names()) >= 12
    assert unnamed(README, shipped_names()) == []


def test_a_readme_missing_a_search_is_caught() -> None:
    names = shipped_names()
    assert unnamed(README.replace(names[0], "?"), names) == [names[0]]


def test_the_apps_readme_promises_nothing_for_later() -> None:
    assert not re.search(r"later release|will be|coming soon", README, re.IGNORECASE)


def ucc_schema_errors(config: Any) -> list[str]:
    from pathlib import Path

    import jsonschema
    import splunk_add_on_ucc_framework as ucc

    schema = json.loads((Path(ucc.__file__).parent / "schema" / "schema.json").read_text(encoding="utf-8"))
    errors = []
    for error in jsonschema.Draft7Validator(schema).iter_errors(config):
        # a oneOf's own message hides the cause (once: "'table' is a required property" for a
        # description over UCC's 200 characters); its context names it
        for cause in error.context or [error]:
            errors.append(f"{'/'.join(map(str, cause.absolute_path))}: {cause.message[-120:]}")
    return errors


def test_global_config_is_valid_for_ucc() -> None:
    # edits to the help texts are checked here, not first by `ucc-gen build`
    config = json.loads((ROOT / "globalConfig.json").read_text(encoding="utf-8"))
    assert not ucc_schema_errors(config)


def test_a_description_over_ucc_limit_is_caught() -> None:
    config = json.loads((ROOT / "globalConfig.json").read_text(encoding="utf-8"))
    config["pages"]["inputs"]["description"] = "x" * 201
    errors = ucc_schema_errors(config)
    assert any("pages/inputs/description" in error and "too long" in error for error in errors)
