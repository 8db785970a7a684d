"""The recorded results behind the browser test: made by the engine, shaped as each search would.

tools/record_dashboard_results.py simulates a fleet (fixed seed), runs `mobile-ingress detect
--suppressed` on it and shapes the rows per data source. Here: every data source of every
dashboard has a recorded result, its columns are exactly the fields its SPL produces (read by
tests/dashboards/spl.py from the final table/fields/stats/timechart), and the numbers are the
engine's own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from . import spl
from .support import NAMES, definition, full_query

CASES = [(name, ds_id) for name in NAMES for ds_id in definition(name)["dataSources"]]


def column_problems(expected: spl.Output, fields: list[str], base_values: set[str] | None) -> list[str]:
    """Why recorded `fields` are not what a search with output `expected` produces."""
    if expected.split_by is None:
        return (
            []
            if list(expected.fields) == fields
            else [f"recorded {fields}, the SPL produces {list(expected.fields)}"]
        )
    fixed, series = fields[: len(expected.fields)], fields[len(expected.fields) :]
    problems = []
    if fixed != list(expected.fields):
        problems.append(f"recorded {fixed} before the series, the SPL produces {list(expected.fields)}")
    if not series or series != sorted(set(series)):
        problems.append(f"series {series} are not distinct sorted values of {expected.split_by}")
    if base_values is not None and set(series) != base_values:
        problems.append(f"series {series} are not the values of {expected.split_by}: {sorted(base_values)}")
    return problems


def base_values(name: str, ds_id: str, recorded: dict[str, dict[str, Any]], field: str) -> set[str] | None:
    """Values of `field` in the recorded result of the chain's base, when it has that column."""
    source = definition(name)["dataSources"][ds_id]
    if source["type"] != "ds.chain":
        return None
    base = recorded[name]["results"][source["options"]["extend"]]
    if field not in base["fields"]:
        return None
    return {str(v) for v in base["columns"][base["fields"].index(field)] if v not in (None, "")}


@pytest.mark.parametrize(("name", "ds_id"), CASES)
def test_recorded_columns_are_the_fields_the_spl_produces(
    name: str, ds_id: str, recorded: dict[str, dict[str, Any]]
) -> None:
    result = recorded[name]["results"][ds_id]
    expected = spl.output(full_query(definition(name), ds_id))
    values = base_values(name, ds_id, recorded, expected.split_by) if expected.split_by else None
    assert column_problems(expected, result["fields"], values) == []
    assert len(result["columns"]) == len(result["fields"])
    assert len({len(column) for column in result["columns"]}) == 1, "columns of different lengths"


def test_mismatched_recorded_columns_are_reported() -> None:
    expected = spl.output("| inputlookup mobile_ingress_findings | table app_id dest")
    assert column_problems(expected, ["dest", "app_id"], None) == [
        "recorded ['dest', 'app_id'], the SPL produces ['app_id', 'dest']"
    ]


def test_timechart_series_that_are_not_values_of_the_split_field_are_reported() -> None:
    expected = spl.output("| inputlookup mobile_ingress_findings | timechart span=1h count BY severity")
    problems = column_problems(expected, ["_time", "high", "urgent"], {"high", "low"})
    assert problems == ["series ['high', 'urgent'] are not the values of severity: ['high', 'low']"]


@pytest.mark.parametrize("name", NAMES)
def test_every_data_source_has_a_recorded_result_and_nothing_else(
    name: str, recorded: dict[str, dict[str, Any]]
) -> None:
    assert set(recorded[name]["results"]) == set(definition(name)["dataSources"])


@pytest.mark.parametrize("name", NAMES)
def test_every_panel_has_rows_to_draw(name: str, recorded: dict[str, dict[str, Any]]) -> None:
    defn = definition(name)
    for viz_id, viz in defn["visualizations"].items():
        for ds_id in viz.get("dataSources", {}).values():
            result = recorded[name]["results"][ds_id]
            assert result["columns"] and len(result["columns"][0]) > 0, (
                f"{name}: {viz_id} ({ds_id}) has no rows"
            )


def test_overview_counts_are_the_engines_findings(
    recorded: dict[str, dict[str, Any]], recorded_dir: Path
) -> None:
    results = recorded["mobile_ingress_overview"]["results"]
    findings = results["ds_findings"]
    ids = findings["columns"][findings["fields"].index("finding_id")]
    totals = dict(zip(results["ds_totals"]["fields"], (c[0] for c in results["ds_totals"]["columns"])))
    assert totals["findings"] == len(ids) == len(set(ids)) > 0
    by_analytic = results["ds_by_analytic"]
    assert sum(sum(column) for column in by_analytic["columns"][1:]) == len(ids)
    tuning = recorded["mobile_ingress_tuning"]["results"]["ds_counts"]
    assert tuning["columns"][tuning["fields"].index("findings")] == [len(ids)]


def test_the_finding_dashboard_opens_on_a_recorded_finding(recorded: dict[str, dict[str, Any]]) -> None:
    record = recorded["mobile_ingress_finding"]
    overview = recorded["mobile_ingress_overview"]["results"]["ds_findings"]
    ids = overview["columns"][overview["fields"].index("finding_id")]
    assert record["tokens"]["finding_id"] in ids
    finding = record["results"]["ds_finding"]
    assert finding["columns"][finding["fields"].index("finding_id")] == [record["tokens"]["finding_id"]]
    timeline = record["results"]["ds_timeline"]
    stages = timeline["columns"][timeline["fields"].index("stage")]
    assert stages[0] == "retrieval" and "staging" in stages


def test_recording_is_deterministic(recorded_dir: Path, tmp_path: Path) -> None:
    import record_dashboard_results

    again = record_dashboard_results.record(tmp_path, devices=12, hours=2, seed=3)
    twice = record_dashboard_results.record(tmp_path / "b", devices=12, hours=2, seed=3)
    for name, path in again.items():
        assert json.loads(path.read_text()) == json.loads(twice[name].read_text()), name


def test_recorded_sourcetypes_are_ones_the_data_macros_name() -> None:
    import re

    import record_dashboard_results as rec

    from ..splunk.test_knowledge_objects import read_conf
    from .support import DEFAULT

    macros = read_conf(DEFAULT / "macros.conf")
    named = set()
    for name in ("mobile_ingress_edr", "mobile_ingress_flow", "mobile_ingress_mdm"):
        named |= set(re.findall(r'sourcetype="([^"]+)"', macros[name]["definition"]))
    assert {rec.EDR[0], rec.MDM[0], rec.NSM[0]} <= named
