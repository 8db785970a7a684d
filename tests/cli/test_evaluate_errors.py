"""`mobile-ingress evaluate` on a wrong or malformed file: one line saying what is wrong, exit 2,
never a traceback and never a perfect score over nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mobile_ingress.cli.main import main

FINDING = {"finding_id": "a" * 32, "analytic_id": "AN1848", "explanation": "x retrieved y", "stages": []}
PLANTED = {"finding_id": "a" * 32, "expected": True, "label": "dex", "clause": "3 chain"}


def write(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def evaluate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["evaluate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_matching_files_are_scored(tmp_path: Path, capsys: Any) -> None:
    findings, truth = write(tmp_path / "f.ndjson", [FINDING]), write(tmp_path / "t.ndjson", [PLANTED])
    code, out, err = evaluate(capsys, findings, "--truth", truth)
    assert code == 0 and "recall 1.000 (1/1)" in out and err == ""


def test_a_missing_findings_file_is_one_line_and_exit_2(tmp_path: Path, capsys: Any) -> None:
    truth = write(tmp_path / "t.ndjson", [PLANTED])
    code, out, err = evaluate(capsys, str(tmp_path / "nope.ndjson"), "--truth", truth)
    assert code == 2 and out == ""
    assert err == f"mobile-ingress: error: findings {tmp_path / 'nope.ndjson'}: no such file\n"


def test_a_findings_file_that_is_not_ndjson_is_one_line_and_exit_2(tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "f.csv"
    bad.write_text("finding_id,analytic_id\nabc,AN1848\n")
    code, _, err = evaluate(capsys, str(bad), "--truth", write(tmp_path / "t.ndjson", [PLANTED]))
    assert code == 2 and err == f"mobile-ingress: error: findings {bad}:1: not JSON (expected NDJSON)\n"


def test_findings_without_a_finding_id_are_an_error(tmp_path: Path, capsys: Any) -> None:
    findings = write(tmp_path / "f.ndjson", [{"analytic_id": "AN1848"}])
    code, _, err = evaluate(capsys, findings, "--truth", write(tmp_path / "t.ndjson", [PLANTED]))
    assert code == 2 and "record 1 has no finding_id" in err and "Traceback" not in err


def test_a_truth_file_with_no_labelled_chain_is_an_error_not_perfect_recall(
    tmp_path: Path, capsys: Any
) -> None:
    findings = write(tmp_path / "f.ndjson", [FINDING])
    code, out, err = evaluate(capsys, findings, "--truth", findings)  # findings given as the truth
    assert code == 2 and "recall" not in out
    assert f"truth {findings}: no labelled chain (a row with expected: true and a finding_id)" in err


def test_swapped_files_are_named_as_such(tmp_path: Path, capsys: Any) -> None:
    findings, truth = write(tmp_path / "f.ndjson", [FINDING]), write(tmp_path / "t.ndjson", [PLANTED])
    code, _, err = evaluate(capsys, truth, "--truth", findings)
    assert code == 2 and "is a ground-truth row" in err and "swapped" in err
