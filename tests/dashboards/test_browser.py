"""Every dashboard drawn in headless Chromium with recorded results (no Splunk, no splunkd).

The render (conftest.render_report: dashboards/scripts/render.mjs, Splunk's DashboardCore with the
view-only Enterprise preset, search data sources answered from the recorded results) opens each
view as the app ships it. Every panel must draw: an <svg>, <canvas> or <table> with rows in the
panel (a single value: its major value; markdown: its text), no "No results"/"Waiting"/error
text; no console error, no page error; no request leaves the local page server and none goes to
a splunkd path. The screenshots stay in output/dashboard-screenshots/ as test artifacts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .support import NAMES, definition


def test_every_dashboard_was_rendered(render_report: dict[str, Any]) -> None:
    assert sorted(render_report["dashboards"]) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_panel_drew(name: str, render_report: dict[str, Any]) -> None:
    result = render_report["dashboards"][name]
    assert result["previewState"]["state"] == "rendered", result["previewState"]
    assert set(result["panels"]) == set(definition(name)["visualizations"])
    not_drawn = {
        viz_id: panel["text"][:200] for viz_id, panel in result["panels"].items() if not panel["drew"]
    }
    assert not_drawn == {}


@pytest.mark.parametrize("name", NAMES)
def test_charts_draw_svg_and_tables_draw_rows(name: str, render_report: dict[str, Any]) -> None:
    for viz_id, panel in render_report["dashboards"][name]["panels"].items():
        if panel["type"] in ("splunk.column", "splunk.bar", "splunk.pie", "splunk.area", "splunk.line"):
            assert panel["svg"], f"{viz_id}: no svg"
        if panel["type"] == "splunk.table":
            assert panel["table"] and panel["rows"] > 0, f"{viz_id}: no table rows"


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
    import json

    from .support import VIEWS, run_node

    record = json.loads((recorded_dir / "mobile_ingress_tuning.json").read_text(encoding="utf-8"))
    del record["results"]["ds_warmup"]
    (tmp_path / "mobile_ingress_tuning.json").write_text(json.dumps(record), encoding="utf-8")
    report_path = tmp_path / "report.json"
    done = run_node(
        [
            "scripts/render.mjs",
            "--views",
            str(VIEWS),
            "--recorded",
            str(tmp_path),
            "--out",
            str(tmp_path),
            "--names",
            "mobile_ingress_tuning",
            "--report",
            str(report_path),
        ],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    panels = json.loads(report_path.read_text(encoding="utf-8"))["dashboards"]["mobile_ingress_tuning"][
        "panels"
    ]
    assert {viz_id for viz_id, panel in panels.items() if not panel["drew"]} == {"viz_gate", "viz_warmup"}
