"""The SPL the app ships, through the executor: every string parses (refusals only if the README
lists them as not yet supported: none today), and the correlation search runs ingresscorrelate as
itself over the sample events with the command line's findings."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.executor import IndexedEvent, Splunk

from .shipped import (
    PACKAGE,
    ROOT,
    SAMPLE_FILES,
    SAMPLES,
    ShippedSearch,
    fill_tokens,
    shipped_macros,
    shipped_searches,
)

SEARCHES = shipped_searches()


@pytest.fixture(scope="module")
def shipped() -> Iterator[Splunk]:
    sp = Splunk(PACKAGE, seed=0)
    yield sp
    sp.close()


@pytest.mark.parametrize("search", SEARCHES, ids=[s.where for s in SEARCHES])
def test_every_shipped_search_parses(shipped: Splunk, search: ShippedSearch) -> None:
    assert shipped.check(fill_tokens(search.spl, {}))


def test_the_shipped_searches_are_found() -> None:
    kinds = {s.where.split(" ")[0].split(":")[0] for s in SEARCHES}
    assert "savedsearches.conf" in kinds and any(k.endswith(".json") for k in kinds)


@pytest.mark.parametrize("name", sorted(shipped_macros()))
def test_every_shipped_macro_parses_as_a_search_or_a_pipeline_stage(shipped: Splunk, name: str) -> None:
    stanza = shipped_macros()[name]
    definition = stanza["definition"]
    for arg in [a.strip() for a in stanza.get("args", "").split(",") if a.strip()]:
        definition = definition.replace(f"${arg}$", '"executor_arg"')
    errors = []
    for spl in (
        f"index=main {definition}",
        f"| makeresults | {definition}",
        f"| makeresults | eval x={definition}",
    ):
        try:
            shipped.check(spl)
            return
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    pytest.fail(f"macro {name} parses in no reading: {errors}")


# ------------------------------------------------------------------ running the correlation


def sample_events() -> list[IndexedEvent]:
    events = []
    for name, (index, sourcetype) in SAMPLE_FILES.items():
        for line in (SAMPLES / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                events.append(
                    IndexedEvent(index, sourcetype, f"/var/log/{name}", "sensor1", line, indextime=0.0)
                )
    return events


def correlation_search(sp: Splunk) -> str:
    names = [n for n, s in sp.savedsearches.items() if "ingresscorrelate" in sp.expand(s["search"])]
    assert len(names) == 1, names
    return names[0]


@pytest.fixture(scope="module")
def replayed() -> Iterator[tuple[Splunk, Any]]:
    sp = Splunk(PACKAGE, seed=0, chunk_size=4)
    events = [e for e in sample_events() if e.sourcetype == "mobile:edr:telemetry"]
    sp.add_events(events)
    for event in sp.store.events:
        event.indextime = event.time + 30  # indexed half a minute after it happened
    sp.set_macro("mobile_ingress_baseline_warmup_days", "0")
    now = max(e.time for e in sp.store.events) + 600
    result = sp.run_saved_search(correlation_search(sp), now=now)
    yield sp, result
    sp.close()


def test_correlation_search_finds_what_the_command_line_finds(replayed: tuple[Splunk, Any]) -> None:
    _, result = replayed
    out = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "mobile-ingress"),
            "detect",
            "--quiet",
            "--raw",
            f"mobile:edr:telemetry={SAMPLES / 'mobile_edr_telemetry.json'}",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    cli = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert cli and sorted(r["finding_id"] for r in result.rows) == sorted(f["finding_id"] for f in cli)
    assert result.rows[0]["stages"] == cli[0]["stages"]


def test_correlation_search_writes_the_findings_store(replayed: tuple[Splunk, Any]) -> None:
    sp, result = replayed
    stored = {r["_key"] for r in sp.kvstore.all_records("mobile_ingress_findings")}
    assert stored == {r["finding_id"] for r in result.rows}


def test_correlation_search_read_the_lookups_through_splunkd(replayed: tuple[Splunk, Any]) -> None:
    sp, _ = replayed
    assert any(
        "storage/collections/data/mobile_ingress_allowed_destinations" in path
        for _, path in sp.kvstore.requests
    )


def test_every_dashboard_search_runs_over_the_samples(replayed: tuple[Splunk, Any]) -> None:
    sp, result = replayed
    sp.add_events([e for e in sample_events() if e.sourcetype != "mobile:edr:telemetry"])
    tokens = {"finding_id": result.rows[0]["finding_id"], "analytic": "*", "severity": "*"}
    now = max(e.time for e in sp.store.events) + 3600
    for search in [s for s in SEARCHES if not s.where.startswith("savedsearches.conf")]:
        sp.search(fill_tokens(search.spl, tokens), now=now, earliest="-30d", latest="now")


def test_every_saved_search_runs_over_the_samples() -> None:
    with Splunk(PACKAGE, seed=1) as sp:
        sp.add_events(sample_events())
        for event in sp.store.events:
            event.indextime = event.time + 30
        now = max(e.time for e in sp.store.events) + 600
        for name in sp.savedsearches:
            sp.run_saved_search(name, now=now)
        assert sp.kvstore.all_records("mobile_ingress_managed_apps")


def test_every_sample_file_is_indexed_by_the_sample_replay() -> None:
    assert sorted(SAMPLE_FILES) == sorted(path.name for path in SAMPLES.glob("*.json"))
