"""Every dashboard drawn in headless Chromium with the results its searches gave over the replay
(no Splunk, no splunkd).

The render (conftest.render_report: dashboards/scripts/render.mjs, Splunk's DashboardCore with the
view-only Enterprise preset, search data sources answered from the recording of test_executed.py)
opens each view as the app ships it. Every panel must draw: an <svg>, <canvas> or <table> with rows
in the panel (a single value: its major value; markdown: its text), no "No results"/"No data!"/
"Waiting"/error text; the single values and tables show what the searches returned; no console
error, no page error; no request leaves the local page server and none goes to a splunkd path. On
a search head without Enterprise Security the ES panel says "No data!" (its search returns no row,
as in Splunk); with ES it draws its links. The screenshots stay in output/dashboard-screenshots/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .looks import FINDING
from .recording import Recording
from .support import NAMES, definition, render

CHARTS = ("splunk.column", "splunk.bar", "splunk.pie", "splunk.area", "splunk.line")
# The one panel without rows on a search head without ES, and what Dashboard Studio shows there.
EMPTY_WITHOUT_ES = {FINDING: {"viz_es"}}
NO_DATA = "No data!"


def test_every_dashboard_was_rendered(render_report: dict[str, Any]) -> None:
    assert sorted(render_report["dashboards"]) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_panel_drew(name: str, render_report: dict[str, Any]) -> None:
    result = render_report["dashboards"][name]
    assert result["previewState"]["state"] == "rendered", result["previewState"]
    assert set(result["panels"]) == set(definition(name)["visualizations"])
    not_drawn = {
        viz_id: panel["text"][:200]
        for viz_id, panel in result["panels"].items()
        if not panel["drew"] and viz_id not in EMPTY_WITHOUT_ES.get(name, set())
    }
    assert not_drawn == {}


def test_without_es_the_es_panel_says_it_has_no_data(render_report: dict[str, Any]) -> None:
    panel = render_report["dashboards"][FINDING]["panels"]["viz_es"]
    assert not panel["drew"] and NO_DATA in panel["text"]


def test_with_es_the_es_panel_draws_its_three_links(render_report_es: dict[str, Any]) -> None:
    result = render_report_es["dashboards"][FINDING]
    panel = result["panels"]["viz_es"]
    assert panel["drew"] and panel["rows"] == 3 and "Incident Review" in panel["text"]
    assert all(p["drew"] for p in result["panels"].values())
    assert result["consoleErrors"] == [] and result["pageErrors"] == []
    assert result["splunkdRequests"] == [] and result["blockedRequests"] == []


@pytest.mark.parametrize("name", NAMES)
def test_charts_draw_svg_and_tables_draw_rows(name: str, render_report: dict[str, Any]) -> None:
    for viz_id, panel in render_report["dashboards"][name]["panels"].items():
        if viz_id in EMPTY_WITHOUT_ES.get(name, set()):
            continue
        if panel["type"] in CHARTS:
            assert panel["svg"], f"{viz_id}: no svg"
        if panel["type"] == "splunk.table":
            assert panel["table"] and panel["rows"] > 0, f"{viz_id}: no table rows"


def series_name(viz: dict[str, Any]) -> str:
    """The field of `> primary | seriesByName('<field>') | lastPoint()`."""
    major = viz["options"]["majorValue"]
    return major.split("seriesByName('", 1)[1].split("'", 1)[0]


@pytest.mark.parametrize("name", NAMES)
def test_single_values_show_what_their_search_returned(
    name: str, render_report: dict[str, Any], recordings: dict[str, Recording]
) -> None:
    shown, returned = {}, {}
    for viz_id, viz in definition(name)["visualizations"].items():
        if viz["type"] != "splunk.singlevalue":
            continue
        rows = recordings[name].table(viz["dataSources"]["primary"])
        returned[viz_id] = str(rows[-1][series_name(viz)])
        shown[viz_id] = render_report["dashboards"][name]["panels"][viz_id]["majorValue"].replace(",", "")
    assert shown == returned


@pytest.mark.parametrize("name", NAMES)
def test_tables_show_the_rows_their_search_returned(
    name: str, render_report: dict[str, Any], recordings: dict[str, Recording]
) -> None:
    """A table shows its search's rows, `count` to a page."""
    shown, returned = {}, {}
    for viz_id, viz in definition(name)["visualizations"].items():
        if viz["type"] != "splunk.table":
            continue
        rows = len(recordings[name].table(viz["dataSources"]["primary"]))
        returned[viz_id] = min(rows, viz.get("options", {}).get("count", 10)) if rows else 0
        shown[viz_id] = render_report["dashboards"][name]["panels"][viz_id]["rows"]
    assert shown == returned


@pytest.mark.parametrize("name", NAMES)
def test_no_console_or_page_errors(name: str, render_report: dict[str, Any]) -> None:
    result = render_report["dashboards"][name]
    assert result["consoleErrors"] == [] and result["pageErrors"] == []


@pytest.mark.parametrize("name", NAMES)
def test_no_request_to_splunkd_or_off_the_page_server(name: str, render_report: dict[str, Any]) -> None:
    result = render_report["dashboards"][name]
    assert result["splunkdRequests"] == [] and result["blockedRequests"] == []


def test_the_page_loaded_each_definition_and_recording(render_report: dict[str, Any]) -> None:
    served = set(render_report["served"])
    for name in NAMES:
        assert f"/definitions/{name}.json" in served and f"/recorded/{name}.json" in served


@pytest.mark.parametrize("name", NAMES)
def test_a_screenshot_is_kept(name: str, render_report: dict[str, Any]) -> None:
    path = Path(render_report["dashboards"][name]["screenshot"])
    assert path.is_file() and path.stat().st_size > 20_000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_panels_do_not_overlap(render_report: dict[str, Any]) -> None:
    for name, result in render_report["dashboards"].items():
        boxes = [(viz_id, p["box"]) for viz_id, p in result["panels"].items()]
        for i, (a_id, a) in enumerate(boxes):
            for b_id, b in boxes[i + 1 :]:
                overlap_x = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
                overlap_y = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
                assert overlap_x <= 1 or overlap_y <= 1, f"{name}: {a_id} overlaps {b_id}"


def test_a_panel_without_its_recorded_result_is_reported_as_not_drawn(
    recorded_dir: Path, tmp_path: Path, render_report: dict[str, Any]
) -> None:
    record = json.loads((recorded_dir / "mobile_ingress_tuning.json").read_text(encoding="utf-8"))
    del record["results"]["ds_warmup"]
    (tmp_path / "mobile_ingress_tuning.json").write_text(json.dumps(record), encoding="utf-8")
    report = render(tmp_path, tmp_path, tmp_path / "report.json", ["mobile_ingress_tuning"])
    panels = report["dashboards"]["mobile_ingress_tuning"]["panels"]
    assert {viz_id for viz_id, panel in panels.items() if not panel["drew"]} == {"viz_gate", "viz_warmup"}
