"""A third analytic declared in a test-only registry flows, with nothing else changed, to the
findings, to the rendered confs and to the dashboards' analytic filter; the shipped registry
renders exactly the shipped files."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import render_dashboards  # tools/ (pytest's pythonpath)
import render_detections
import yaml

from mobile_ingress.engine.analytics import ANALYTICS, DET0718_SCORING, Analytics, SeverityBands

from .support import (
    IOS_CHAIN,
    IOS_RETRIEVAL,
    THIRD_ID,
    THIRD_NAME,
    detector_findings,
    registry_with_third,
    window_findings,
)

CORRELATION = "mobile_ingress_det0718_ingress_tool_transfer"
OVERVIEW = "mobile_ingress_overview"


@pytest.fixture(scope="module")
def third() -> Analytics:
    return registry_with_third()


# ------------------------------------------------------------------------------------- findings


def test_the_third_analytic_stamps_the_findings_of_its_rule(third: Analytics) -> None:
    [finding] = window_findings([IOS_RETRIEVAL], third)
    assert (finding["analytic_id"], finding["technique_id"], finding["detection_strategy"]) == (
        THIRD_ID,
        "T1544",
        "DET0718",
    )


def test_the_shipped_registry_stamps_the_same_finding_an1849(third: Analytics) -> None:
    [shipped] = window_findings([IOS_RETRIEVAL])
    [moved] = window_findings([IOS_RETRIEVAL], third)
    assert shipped["analytic_id"] == "AN1849"
    assert shipped["finding_id"] != moved["finding_id"]  # the id is part of the identity (section 4)
    assert {k: v for k, v in shipped.items() if k not in ("analytic_id", "finding_id")} == {
        k: v for k, v in moved.items() if k not in ("analytic_id", "finding_id")
    }


def test_chains_stay_with_the_analytic_that_runs_the_chain_rule(third: Analytics) -> None:
    ids = [f["analytic_id"] for f in window_findings([IOS_RETRIEVAL, *IOS_CHAIN], third)]
    assert ids == ["AN1849", THIRD_ID]


@pytest.mark.parametrize("order", ["asc", "desc", "any"])
def test_the_whole_engine_stamps_the_third_analytic_in_every_order(third: Analytics, order: str) -> None:
    ids = sorted(f["analytic_id"] for f in detector_findings([IOS_RETRIEVAL, *IOS_CHAIN], third, order))
    assert ids == sorted(["AN1849", THIRD_ID])


def test_the_whole_engine_keeps_the_shipped_analytics_by_default() -> None:
    ids = sorted(f["analytic_id"] for f in detector_findings([IOS_RETRIEVAL, *IOS_CHAIN]))
    assert ids == ["AN1849", "AN1849"]


def test_a_registry_without_the_retrieval_only_rule_raises_no_retrieval_only_finding() -> None:
    ios_chain_only = replace(ANALYTICS.get("AN1849"), rules=frozenset({"chain"}))
    registry = Analytics([ANALYTICS.get("AN1848"), ios_chain_only])
    assert window_findings([IOS_RETRIEVAL], registry) == []


def test_severity_follows_the_bands_of_the_findings_analytic() -> None:
    narrow = replace(DET0718_SCORING, bands=SeverityBands(medium=5, high=10, critical=15))
    [finding] = window_findings([IOS_RETRIEVAL], registry_with_third(scoring=narrow))
    [shipped] = window_findings([IOS_RETRIEVAL])
    assert finding["risk_score"] == shipped["risk_score"] == 20
    assert (finding["severity"], shipped["severity"]) == ("critical", "low")


# ---------------------------------------------------------------------------------------- confs


def annotations(savedsearches: str) -> dict[str, Any]:
    line = next(x for x in savedsearches.splitlines() if x.startswith("action.correlationsearch.annotations"))
    result: dict[str, Any] = json.loads(line.split(" = ", 1)[1])
    return result


def test_the_correlation_search_names_the_third_analytic(third: Analytics) -> None:
    text = render_detections.rendered(analytics=third)[render_detections.SAVEDSEARCHES]
    assert annotations(text)["analytic"] == ["AN1848", "AN1849", THIRD_ID]
    assert f"AN1848 (Android), AN1849 (iOS) and {THIRD_ID} ({THIRD_NAME})." in text


def test_the_shipped_registry_renders_the_shipped_confs() -> None:
    for path, text in render_detections.rendered().items():
        assert path.read_text(encoding="utf-8") == text, path.name
    assert annotations(render_detections.SAVEDSEARCHES.read_text(encoding="utf-8"))["analytic"] == [
        "AN1848",
        "AN1849",
    ]


def test_the_attack_ids_of_the_annotations_come_from_the_analytics() -> None:
    other = [replace(a, technique="T1398", detection_strategy="DET0999") for a in ANALYTICS]
    text = render_detections.rendered(analytics=Analytics(other))[render_detections.SAVEDSEARCHES]
    found = annotations(text)
    assert (found["mitre_attack"], found["detection_strategy"]) == (["T1398"], ["DET0999"])
    assert "MITRE ATT&CK for Mobile T1398 (Ingress Tool Transfer), detection strategy DET0999" in text


def copy_detections(tmp_path: Path, change: dict[str, Any]) -> Path:
    """detections/ in tmp_path, with the correlation YAML's top-level keys changed."""
    folder = tmp_path / "detections"
    shutil.copytree(render_detections.DETECTIONS, folder)
    path = folder / f"{CORRELATION}.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(change)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return folder


def test_a_yaml_listing_some_analytics_renders_those(tmp_path: Path, third: Analytics) -> None:
    folder = copy_detections(tmp_path, {"analytics": [THIRD_ID]})
    text = render_detections.rendered(folder, third)[render_detections.SAVEDSEARCHES]
    assert annotations(text)["analytic"] == [THIRD_ID]


def test_a_yaml_naming_an_analytic_the_registry_lacks_is_refused(tmp_path: Path) -> None:
    folder = copy_detections(tmp_path, {"analytics": ["AN1848", "AN9999"]})
    with pytest.raises(SystemExit, match=rf"^{CORRELATION}.yml: analytic 'AN9999' is not in the registry"):
        render_detections.load_detections(folder)


def test_a_correlation_yaml_declaring_its_technique_is_refused(tmp_path: Path) -> None:
    folder = copy_detections(tmp_path, {"mitre": {"technique": "T1544", "tactics": ["command-and-control"]}})
    with pytest.raises(SystemExit, match=r"mitre.technique of a correlation search comes from its analytics"):
        render_detections.load_detections(folder)


def test_an_unknown_placeholder_in_a_detection_is_refused(tmp_path: Path) -> None:
    source = yaml.safe_load((render_detections.DETECTIONS / f"{CORRELATION}.yml").read_text(encoding="utf-8"))
    folder = copy_detections(tmp_path, {"description": source["description"] + " {{analytic_names}}"})
    with pytest.raises(SystemExit, match=r"description: unknown placeholder \{\{analytic_names\}\}"):
        render_detections.load_detections(folder)


# ------------------------------------------------------------------------------------ dashboards


def view_definition(xml: str) -> dict[str, Any]:
    body = re.search(r"<definition><!\[CDATA\[\n(.*)\n    \]\]></definition>", xml, re.S)
    assert body is not None
    result: dict[str, Any] = json.loads(body.group(1))
    return result


def overview(analytics: Analytics) -> dict[str, Any]:
    return view_definition(render_dashboards.rendered(analytics=analytics)[f"{OVERVIEW}.xml"])


def test_the_overview_filter_offers_the_third_analytic(third: Analytics) -> None:
    items = overview(third)["inputs"]["input_analytic"]["options"]["items"]
    assert items[-1] == {"label": f"{THIRD_ID} {THIRD_NAME}", "value": THIRD_ID}
    assert [item["value"] for item in items] == ["*", "AN1848", "AN1849", THIRD_ID]


def test_the_overview_gives_the_third_analytic_its_own_color(third: Analytics) -> None:
    colors = overview(third)["visualizations"]["viz_by_analytic"]["options"]["seriesColorsByField"]
    assert list(colors) == ["AN1848", "AN1849", THIRD_ID] and len(set(colors.values())) == 3


def test_the_overview_description_names_the_third_analytic(third: Analytics) -> None:
    assert f"AN1848 Android, AN1849 iOS, {THIRD_ID} {THIRD_NAME}, MITRE" in overview(third)["description"]


def test_the_shipped_registry_renders_the_shipped_views() -> None:
    assert render_dashboards.stale() == []
    items = overview(ANALYTICS)["inputs"]["input_analytic"]["options"]["items"]
    assert [item["value"] for item in items] == ["*", "AN1848", "AN1849"]


def test_more_analytics_than_colors_are_refused() -> None:
    with pytest.raises(render_dashboards.DefinitionError, match=r"^2 analytics but 1 colors: add colors"):
        render_dashboards.with_analytics({}, ANALYTICS, colors=("#009CEB",))


def test_as_many_colors_as_analytics_are_enough() -> None:
    view = render_dashboards.with_analytics({"c": "{{analytic_colors}}"}, ANALYTICS, colors=("#1", "#2"))
    assert view == {"c": {"AN1848": "#1", "AN1849": "#2"}}


def test_an_unknown_placeholder_in_a_dashboard_is_refused() -> None:
    with pytest.raises(
        render_dashboards.DefinitionError, match=r"^/title: unknown placeholder \{\{analytic\}\}"
    ):
        render_dashboards.with_analytics({"title": "Mobile Ingress - {{analytic}}"})
