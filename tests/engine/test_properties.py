"""Properties that must hold for any input (hypothesis)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mobile_ingress.cli.detect import Inputs, correlate
from mobile_ingress.engine.detector import Detector
from mobile_ingress.engine.settings import Settings

from .strategies import BASE, LOOKUPS, SETTINGS, fleets
from .support import canonical, make_lookups, orderings, run

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONFIG = Settings().with_values(SETTINGS)
TABLES = make_lookups(LOOKUPS)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets(repeated_ids=True), st.randoms(use_true_random=False), st.booleans())
def test_shuffled_ascending_and_descending_input_give_the_same_findings(
    events: list[dict[str, Any]], rnd: Any, suppressed: bool
) -> None:
    reference = None
    for _, order, ordered in orderings(events, seed=rnd.randint(0, 10**6)):
        findings, tuning, _ = run(ordered, TABLES, CONFIG, order, suppressed)
        result = canonical(findings + tuning)
        if reference is None:
            reference = result
        assert result == reference


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets(repeated_ids=True), st.booleans())
def test_the_prefilter_never_changes_the_findings(events: list[dict[str, Any]], suppressed: bool) -> None:
    results = []
    for use_prefilter in (True, False):
        detector = Detector(CONFIG, TABLES, with_suppressed=suppressed, use_prefilter=use_prefilter)
        for index, record in enumerate(events):
            detector.add_record(record, f"p:{index}")
        findings, tuning = detector.finish()
        results.append(canonical([f.to_dict() for f in findings + tuning]))
    assert results[0] == results[1]


@PROPERTY
@given(fleets(min_size=2), st.data())
def test_adding_a_follow_on_stage_or_a_context_never_lowers_a_score(
    events: list[dict[str, Any]], data: st.DataObject
) -> None:
    before, _, _ = run(events, TABLES, CONFIG)
    if not before:
        return
    target = data.draw(st.sampled_from(before))
    extra: dict[str, Any] = {
        "device_id": target["device_id"],
        "platform": target["platform"],
        "event_id": "extra",
    }
    kind = data.draw(st.sampled_from(["load", "handoff", "unpack", "background", "locked", "idle"]))
    when = (
        target["first_time"] - 0.5 if kind in ("background", "locked", "idle") else target["last_time"] + 0.5
    )
    extra["_time"] = when
    if kind in ("load", "handoff", "unpack") and target["file_path"]:
        extra.update(activity=kind, file_path=target["file_path"], app_id=target["app_id"] or "com.x")
        if kind == "load":
            extra["load_method"] = "dexclassloader"
    else:
        extra.update(activity="state", app_id=target["app_id"])
        extra.update(
            {
                "background": {"app_state": "background"},
                "locked": {"device_locked": True},
                "idle": {"recent_user_interaction": False},
            }.get(kind, {"app_state": "background"})
        )
    extra = {k: v for k, v in extra.items() if v is not None}
    after, _, _ = run([*events, extra], TABLES, CONFIG)
    by_id = {row["finding_id"]: row for row in after}
    for row in before:
        assert row["finding_id"] in by_id, "adding a stage or context removed a finding"
        assert by_id[row["finding_id"]]["risk_score"] >= row["risk_score"]


GARBAGE = st.one_of(
    st.text(max_size=40).filter(lambda s: "\n" not in s and "\r" not in s),
    st.sampled_from(
        [
            "{",
            "[]",
            "null",
            "42",
            '"text"',
            '{"_time": "soon"}',
            '{"activity": "load"}',
            '{"_time": 1, "activity": "retrieval"}',
            "\x00\x01",
            "{}",
            # Issue 15's hostile values: each one skipped record, never a crash.
            "[" * 100_000 + "]" * 100_000,
            *(
                f'{{"_time": {time}, "activity": "state", "platform": "android", "device_id": "d1"{extra}}}'
                for time, extra in [
                    ("9" * 400, ""),  # an integer beyond a float
                    ("1e400", ""),
                    ("-99999999999", ""),  # before the year 1
                    ('"2023-11-14T22:13:20+24:00"', ""),  # a zone a day away
                    ("1700000000", ', "activity": "load"'),  # a repeated key
                    ("1700000000", ', "activity": "retrieval", "dest": "*"'),  # no host name, no fallback
                ]
            ),
        ]
    ),
    st.dictionaries(st.sampled_from(["_time", "activity", "platform", "x"]), st.text(max_size=5)).map(
        json.dumps
    ),
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(fleets(max_size=30), st.lists(GARBAGE, max_size=20), st.randoms(use_true_random=False))
def test_garbage_lines_never_crash_the_reader_nor_lose_a_valid_event(
    tmp_path: Path, events: list[dict[str, Any]], garbage: list[str], rnd: Any
) -> None:
    lines = [json.dumps(e) for e in events]
    mixed = list(lines)
    for junk in garbage:
        mixed.insert(rnd.randint(0, len(mixed)), junk)
    clean_file = tmp_path / "clean.ndjson"
    clean_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mixed_file = tmp_path / "mixed.ndjson"
    mixed_file.write_text("\n".join(mixed) + "\n", encoding="utf-8", errors="surrogatepass")
    results = []
    for path in (clean_file, mixed_file):
        from contextlib import ExitStack

        with ExitStack() as stack:
            detector, findings, _tuning = correlate(Inputs([str(path)], stack), CONFIG, TABLES, "auto", False)
        results.append(
            (detector.report.kept + detector.report.filtered, canonical([f.to_dict() for f in findings]))
        )
    assert results[1] == results[0]
    assert results[0][0] == len(events)


def test_strategies_produce_findings_often_enough_to_mean_something() -> None:
    """The properties above are only as strong as the fleets they draw: most must hold findings."""
    counts: list[int] = []

    @settings(max_examples=100, database=None, derandomize=True, phases=[Phase.generate], deadline=None)
    @given(fleets(min_size=20))
    def sample(events: list[dict[str, Any]]) -> None:
        counts.append(len(run(events, TABLES, CONFIG)[0]))

    sample()
    with_findings = sum(1 for count in counts if count)
    assert with_findings >= len(counts) // 2, f"only {with_findings} of {len(counts)} fleets had findings"
    assert BASE > 0
