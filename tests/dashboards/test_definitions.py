"""The dashboard definitions: Splunk's own Dashboard Studio schema, and what it does not check.

Schema: dashboards/scripts/validate.cjs runs @splunk/dashboard-validation's DashboardValidator
with createSchemaBasedOnPresets(EnterprisePreset) from @splunk/dashboard-definition (the
preset-based schema: per-visualization, per-input and per-data-source options) on the views as
the app ships them, and reports visualization options the schema of their type does not declare.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import render_dashboards  # tools/ (pytest's pythonpath)

from .recording import TOKEN
from .support import NAMES, VIEWS, definition, require_node_modules, run_node


def validate(paths: list[Path]) -> tuple[int, dict[str, Any]]:
    require_node_modules()
    done = run_node(["scripts/validate.cjs", *map(str, paths)])
    assert done.returncode in (0, 1), (
        f"validate.cjs could not run (exit {done.returncode}):\n{done.stderr[-3000:]}"
    )
    return done.returncode, json.loads(done.stdout)


@pytest.fixture(scope="module")
def schema_report() -> tuple[int, dict[str, Any]]:
    return validate([VIEWS / f"{name}.xml" for name in NAMES])


def test_every_view_validates_against_the_dashboard_studio_schema(
    schema_report: tuple[int, dict[str, Any]],
) -> None:
    code, report = schema_report
    assert len(report) == len(NAMES)
    problems = {path: entry for path, entry in report.items() if entry["errors"] or entry["unknownOptions"]}
    assert problems == {} and code == 0


def test_schema_refuses_a_wrong_option_type_and_reports_an_unknown_option(tmp_path: Path) -> None:
    broken = definition("mobile_ingress_overview")
    broken["visualizations"]["viz_table"]["options"]["count"] = "ten"
    broken["visualizations"]["viz_top_apps"]["options"]["legendDisplayy"] = "off"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    code, report = validate([path])
    entry = report[str(path)]
    assert code == 1
    assert any(e.get("instancePath") == "/visualizations/viz_table/options/count" for e in entry["errors"])
    assert entry["unknownOptions"] == ["viz_top_apps: splunk.bar has no option legendDisplayy"]


def test_schema_refuses_a_layout_item_that_is_not_a_visualization(tmp_path: Path) -> None:
    broken = definition("mobile_ingress_tuning")
    structure = next(iter(broken["layout"]["layoutDefinitions"].values()))["structure"]
    structure[0]["item"] = "viz_missing"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    code, report = validate([path])
    assert code == 1 and report[str(path)]["errors"]


def test_views_are_rendered_from_their_json_sources() -> None:
    assert render_dashboards.stale() == []


def test_a_stale_view_is_reported(tmp_path: Path) -> None:
    for name, text in render_dashboards.rendered().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "mobile_ingress_tuning.xml").write_text("<dashboard/>", encoding="utf-8")
    assert render_dashboards.stale(tmp_path) == [f"{tmp_path / 'mobile_ingress_tuning.xml'} is stale"]


def test_views_are_dashboard_studio_version_2() -> None:
    for name in NAMES:
        text = (VIEWS / f"{name}.xml").read_text(encoding="utf-8")
        assert re.match(r'<dashboard version="2" theme="(light|dark)">', text), name


@pytest.mark.parametrize("name", NAMES)
def test_every_visualization_names_a_data_source_that_exists(name: str) -> None:
    defn = definition(name)
    for viz_id, viz in defn["visualizations"].items():
        for role, ds_id in viz.get("dataSources", {}).items():
            assert ds_id in defn["dataSources"], f"{name}: {viz_id}.{role} -> {ds_id} does not exist"


def test_a_visualization_bound_to_a_missing_data_source_is_caught() -> None:
    defn = definition("mobile_ingress_overview")
    defn["visualizations"]["viz_table"]["dataSources"]["primary"] = "ds_gone"
    missing = [
        ds
        for viz in defn["visualizations"].values()
        for ds in viz.get("dataSources", {}).values()
        if ds not in defn["dataSources"]
    ]
    assert missing == ["ds_gone"]


@pytest.mark.parametrize("name", NAMES)
def test_every_chain_extends_a_search_of_the_same_dashboard(name: str) -> None:
    defn = definition(name)
    for ds_id, source in defn["dataSources"].items():
        if source["type"] == "ds.chain":
            base = defn["dataSources"].get(source["options"]["extend"])
            assert base is not None and base["type"] == "ds.search", f"{name}: {ds_id}"
        else:
            assert source["type"] == "ds.search", f"{name}: {ds_id} is {source['type']}"


@pytest.mark.parametrize("name", NAMES)
def test_every_data_source_feeds_a_visualization_or_a_chain(name: str) -> None:
    defn = definition(name)
    used = {ds for viz in defn["visualizations"].values() for ds in viz.get("dataSources", {}).values()}
    used |= {s["options"]["extend"] for s in defn["dataSources"].values() if s["type"] == "ds.chain"}
    assert set(defn["dataSources"]) - used == set()


def unset_tokens(defn: dict[str, Any]) -> list[str]:
    """`$token$`s (with or without a filter such as `|s`) of the data sources and defaults that no
    input sets."""
    tokens = {i["options"]["token"] for i in defn.get("inputs", {}).values()}
    text = json.dumps(defn["dataSources"]) + json.dumps(defn.get("defaults", {}))
    return sorted({name for name, _ in TOKEN.findall(text) if name.split(".")[0] not in tokens})


@pytest.mark.parametrize("name", NAMES)
def test_every_token_a_search_uses_is_set_by_an_input(name: str) -> None:
    assert unset_tokens(definition(name)) == []


def test_a_filtered_token_no_input_sets_is_caught() -> None:
    defn = definition("mobile_ingress_finding")
    defn["dataSources"]["ds_finding"]["options"]["query"] += " | search finding_id=$findng_id|s$"
    assert unset_tokens(defn) == ["findng_id"]


def test_the_findings_table_drills_down_to_the_finding_dashboard() -> None:
    handler = definition("mobile_ingress_overview")["visualizations"]["viz_table"]["eventHandlers"][0]
    assert handler["type"] == "drilldown.linkToDashboard"
    assert handler["options"]["app"] == "TA-mobile-ingress"
    assert handler["options"]["dashboard"] == "mobile_ingress_finding"
    assert handler["options"]["tokens"] == [{"token": "finding_id", "value": "row.finding_id.value"}]
    finding_inputs = definition("mobile_ingress_finding")["inputs"].values()
    assert any(i["options"]["token"] == "finding_id" for i in finding_inputs)


def test_the_tuning_dashboard_reads_ingresscorrelate_with_suppressed_rows() -> None:
    query = definition("mobile_ingress_tuning")["dataSources"]["ds_rows"]["options"]["query"]
    assert re.search(r"\| ingresscorrelate .*\bsuppressed=true\b", query)
