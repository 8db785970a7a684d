"""The engine against the hand-made table of contract cases (tests/cases/*.yaml).

Each case is run with its events as written, shuffled, ascending and descending; the findings
must match the expectation every time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mobile_ingress.engine.settings import Settings

from .support import make_lookups, orderings, run

CASES_DIR = Path(__file__).resolve().parents[1] / "cases"


def load_cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            case["_file"] = path.name
            cases.append(case)
    return cases


CASES = load_cases()


def test_case_table_exists_and_names_are_unique() -> None:
    names = [case["name"] for case in CASES]
    assert len(names) >= 50, "the hand-made case table is missing or too small"
    assert len(names) == len(set(names)), "case names must be unique"
    assert all(case.get("clause") for case in CASES), "every case names its contract clause"


def _matches(actual: dict[str, Any], expected: dict[str, Any]) -> bool:
    for key, value in expected.items():
        if key == "explanation_contains":
            if not all(part in actual["explanation"] for part in value):
                return False
        elif key not in actual:
            return False
        elif value in ("", None) and actual[key] in ("", None):
            continue  # an empty field: null in NDJSON, empty in CSV
        elif isinstance(value, float) or isinstance(actual[key], float):
            if actual[key] is None or value is None:
                if actual[key] != value:
                    return False
            elif abs(float(actual[key]) - float(value)) > 0.0005:
                return False
        elif actual[key] != value:
            return False
    return True


def _assert_rows(label: str, actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert len(actual) == len(expected), (
        f"{label}: expected {len(expected)} rows, got {len(actual)}:\n"
        + "\n".join(
            f"  {row['analytic_id']} {row['app_id']} {row['file_path'] or row['dest']} "
            f"stages={row['stages']} context={row['context']} {row.get('suppressed_by', '')}"
            for row in actual
        )
    )
    unmatched = list(actual)
    for want in expected:
        hit = next((row for row in unmatched if _matches(row, want)), None)
        assert hit is not None, f"{label}: no row matches {want}\nrows: {unmatched}"
        unmatched.remove(hit)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_contract_case(case: dict[str, Any]) -> None:
    settings = Settings().with_values(case.get("settings") or {})
    lookups = make_lookups(case.get("lookups"))
    suppressed = bool(case.get("suppressed"))
    for label, order, events in orderings(case["events"]):
        findings, tuning, report = run(events, lookups, settings, order, suppressed)
        where = f"{case['_file']}:{case['name']} ({label})"
        _assert_rows(where, findings, case.get("expect") or [])
        if suppressed:
            _assert_rows(where + " suppressed", tuning, case.get("expect_suppressed") or [])
        if "expect_skipped" in case:
            wanted = case["expect_skipped"]
            assert report.skipped_total == len(wanted), f"{where}: skipped {dict(report.skipped)}"
            messages = [m for m in report.messages if ": skipped: " in m]
            for index, words in wanted.items():
                hit = [
                    m for m in messages if m.startswith(f"case:{_position(events, case['events'], index)}:")
                ]
                assert hit and str(words).lower() in hit[0].lower(), f"{where}: event {index}: {messages}"
        if "expect_warnings" in case:
            assert report.warnings == case["expect_warnings"], f"{where}: {report.messages}"


def _position(events: list[Any], original: list[Any], index: int) -> int:
    """1-based position in `events` of the original case's event number `index`."""
    target = original[int(index) - 1]
    return next(i for i, e in enumerate(events, start=1) if e is target)
