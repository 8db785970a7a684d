"""The app's navigation lists the dashboards and keeps the UCC pages reachable.

ucc-gen generates data/ui/nav/default.xml only when the app has none, so the add-on ships its own
(package/default/data/ui/nav/default.xml): every dashboard, every page globalConfig.json declares
(UCC's views `inputs`, `configuration`, `dashboard`), and search.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .support import NAMES, NAV, ROOT, VIEWS

UCC_PAGE_VIEWS = {"inputs": "inputs", "configuration": "configuration", "dashboard": "dashboard"}


def nav_views(path: Path = NAV) -> list[str]:
    return [view.get("name", "") for view in ET.parse(path).getroot().iter("view")]


def declared_pages() -> set[str]:
    pages = json.loads((ROOT / "globalConfig.json").read_text(encoding="utf-8"))["pages"]
    return {UCC_PAGE_VIEWS[page] for page in pages if page in UCC_PAGE_VIEWS}


def test_nav_lists_every_dashboard() -> None:
    assert set(NAMES) <= set(nav_views())


def test_nav_keeps_every_page_ucc_generates_reachable() -> None:
    assert declared_pages() <= set(nav_views())


def test_nav_names_only_dashboards_ucc_pages_and_search() -> None:
    ours = {path.stem for path in VIEWS.glob("*.xml")}
    assert set(nav_views()) <= ours | set(UCC_PAGE_VIEWS.values()) | {"search"}


def test_the_overview_is_the_default_view() -> None:
    defaults = [
        view.get("name") for view in ET.parse(NAV).getroot().iter("view") if view.get("default") == "true"
    ]
    assert defaults == ["mobile_ingress_overview"]


def test_a_nav_without_the_configuration_page_is_caught(tmp_path: Path) -> None:
    text = NAV.read_text(encoding="utf-8").replace('<view name="configuration"/>', "")
    (tmp_path / "default.xml").write_text(text, encoding="utf-8")
    assert "configuration" in declared_pages() - set(nav_views(tmp_path / "default.xml"))


def test_the_built_app_ships_this_nav_the_views_and_the_ucc_pages() -> None:
    built = ROOT / "output" / "TA-mobile-ingress" / "default" / "data" / "ui"
    if not built.is_dir():
        pytest.fail("the built app is missing: run `make build` first")
    assert (built / "nav" / "default.xml").read_bytes() == NAV.read_bytes()
    for name in NAMES:
        assert (built / "views" / f"{name}.xml").read_bytes() == (VIEWS / f"{name}.xml").read_bytes()
    for view in declared_pages():
        assert (built / "views" / f"{view}.xml").is_file(), f"UCC did not generate the {view} page"
