"""`mobile-ingress evaluate`: precision and recall of findings against a labelled ground truth.

A planted finding is matched by `finding_id` (both sides use the contract's digest). Near-misses
(`expected: false`) that alert are false positives with the rule that should have stopped them.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from .detect import UsageError


@dataclass
class Evaluation:
    expected: int = 0
    found: int = 0
    true_positives: int = 0
    missed: list[dict[str, Any]] = field(default_factory=list)
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    detail_mismatches: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.true_positives / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.expected if self.expected else 1.0

    @property
    def exact(self) -> bool:
        return self.precision == 1.0 and self.recall == 1.0 and not self.detail_mismatches


class EvaluateInputError(UsageError):
    """A findings or truth file that cannot be scored (exit 2): missing, not NDJSON, not the rows
    `detect` or `simulate` write, or a truth file with no labelled chain."""


def read_ndjson(path: str, what: str) -> list[dict[str, Any]]:
    """The JSON objects of an NDJSON file; WHAT names the file in the error."""
    rows = []
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError:
                    raise EvaluateInputError(f"{what} {path}:{number}: not JSON (expected NDJSON)") from None
                if not isinstance(value, dict):
                    raise EvaluateInputError(f"{what} {path}:{number}: not a JSON object")
                rows.append(value)
    except FileNotFoundError:
        raise EvaluateInputError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise EvaluateInputError(f"{what} {path}: a folder, not a file") from None
    except UnicodeDecodeError:
        raise EvaluateInputError(f"{what} {path}: not UTF-8 text (expected NDJSON)") from None
    return rows


def check_findings(rows: list[dict[str, Any]], path: str) -> None:
    """Every row is a finding `detect` wrote (NDJSON: --format ndjson)."""
    for number, row in enumerate(rows, start=1):
        if "expected" in row and "explanation" not in row:
            raise EvaluateInputError(
                f"findings {path}: record {number} is a ground-truth row (it has `expected`): "
                "are the findings and --truth files swapped?"
            )
        if not isinstance(row.get("finding_id"), str):
            raise EvaluateInputError(
                f"findings {path}: record {number} has no finding_id: is it the NDJSON `detect` writes?"
            )


def check_truth(rows: list[dict[str, Any]], path: str) -> None:
    """The truth holds labelled chains: rows with `expected` and a `finding_id` (simulate's
    ground_truth.ndjson). With none every recall would read 1.000 (0/0), which proves nothing."""
    labelled = [row for row in rows if "expected" in row and isinstance(row.get("finding_id"), str)]
    if not any(row["expected"] is True for row in labelled):
        raise EvaluateInputError(
            f"truth {path}: no labelled chain (a row with expected: true and a finding_id); "
            "is it the ground_truth.ndjson `simulate` writes?"
        )


def evaluate(findings: list[dict[str, Any]], truth: list[dict[str, Any]]) -> Evaluation:
    planted = {row["finding_id"]: row for row in truth if row.get("expected")}
    near_misses = {
        row["finding_id"]: row for row in truth if not row.get("expected") and row.get("finding_id")
    }
    result = Evaluation(expected=len(planted))
    seen = set()
    for finding in findings:
        if finding.get("suppressed_by"):
            continue
        result.found += 1
        want = planted.get(finding["finding_id"])
        if want is None:
            why = near_misses.get(finding["finding_id"])
            result.false_positives.append({"finding": finding, "near_miss": why})
            continue
        result.true_positives += 1
        seen.add(finding["finding_id"])
        for key in ("stages", "context"):
            if key in want and sorted(want[key]) != sorted(finding[key]):
                result.detail_mismatches.append(
                    f"{want.get('label')}: {key} expected {want[key]}, found {finding[key]}"
                )
    result.missed = [row for fid, row in planted.items() if fid not in seen]
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("findings", help="findings NDJSON written by `detect`")
    parser.add_argument("--truth", required=True, help="ground_truth.ndjson written by `simulate`")
    parser.add_argument(
        "--require-exact",
        action="store_true",
        help="exit 1 unless precision and recall are 1.0 and stages and context agree",
    )


def run(args: argparse.Namespace) -> int:
    findings = read_ndjson(args.findings, "findings")
    check_findings(findings, args.findings)
    truth = read_ndjson(args.truth, "truth")
    check_truth(truth, args.truth)
    result = evaluate(findings, truth)
    for row in result.missed:
        print(
            f"missed: {row.get('label')} ({row.get('clause')}) {row.get('device_id')} "
            f"{row.get('file_path') or row.get('dest')}",
            file=sys.stderr,
        )
    for item in result.false_positives:
        finding, near = item["finding"], item["near_miss"]
        label = f"near-miss {near.get('label')} ({near.get('clause')})" if near else "not planted"
        what = finding.get("explanation") or finding["finding_id"]
        print(f"false positive: {label}: {what}", file=sys.stderr)
    for line in result.detail_mismatches:
        print(f"detail: {line}", file=sys.stderr)
    verdict = "exact: every planted chain found, nothing else" if result.exact else "NOT exact"
    print(
        f"precision {result.precision:.3f} ({result.true_positives}/{result.found}), "
        f"recall {result.recall:.3f} ({result.true_positives}/{result.expected}): {verdict}"
    )
    return 1 if args.require_exact and not result.exact else 0
