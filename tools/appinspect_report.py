"""Judge an AppInspect JSON report: exit 1 on any failure, future failure or error.

splunk-appinspect's own exit code is not enough: without --ci it is 0 whatever the report says,
and with --ci a run that stopped early can still leave a report. So the report itself decides.
It also prints each remaining warning (check name and first message), the list that
docs/appinspect.md must explain.

Usage: python tools/appinspect_report.py REPORT.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

BLOCKING = ("failure", "future_failure", "error")


def load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        report: dict[str, Any] = json.load(handle)
    return report


def summary(report: dict[str, Any]) -> dict[str, int]:
    """Totals over every app report in the file; raises ValueError when there are none."""
    reports = report.get("reports") or []
    if not reports:
        raise ValueError("the report holds no app report (did AppInspect stop early?)")
    totals: dict[str, int] = {}
    for app_report in reports:
        for key, value in app_report.get("summary", {}).items():
            totals[key] = totals.get(key, 0) + int(value)
    if not totals.get("success"):
        raise ValueError("no check succeeded: AppInspect did not really run")
    return totals


def checks_with_result(report: dict[str, Any], result: str) -> list[tuple[str, list[str]]]:
    """(check name, its messages) for every check whose result is RESULT."""
    found = []
    for app_report in report.get("reports", []):
        for group in app_report.get("groups", []):
            for check in group.get("checks", []):
                if check.get("result") == result:
                    messages = check.get("messages", [])
                    texts = [" ".join(str(m.get("message", "")).split()) for m in messages]
                    found.append((str(check.get("name")), texts))
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        report = load(argv[1])
        totals = summary(report)
    except (OSError, ValueError) as exc:
        print(f"appinspect_report: {argv[1]}: {exc}", file=sys.stderr)
        return 1
    print("AppInspect summary: " + ", ".join(f"{key} {value}" for key, value in sorted(totals.items())))
    for name, messages in checks_with_result(report, "warning"):
        more = f" (+{len(messages) - 1} more)" if len(messages) > 1 else ""
        print(f"  warning  {name}: {(messages or [''])[-1][:150]}{more}")
    blocking = {key: totals.get(key, 0) for key in BLOCKING if totals.get(key, 0)}
    for result in BLOCKING:
        for name, messages in checks_with_result(report, result):
            for message in messages or [""]:
                print(f"  {result.upper()}  {name}: {message}", file=sys.stderr)
    if blocking:
        print(f"appinspect_report: blocking results {blocking}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
