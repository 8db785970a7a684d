"""Kill the input process (SIGKILL) at random moments, many times, then let it finish: the union of
what was written covers every record the server has, and whatever a restart wrote again is within
the one batch that was in flight when the previous process died, with its source ids.

Jamf (page-number cursor, inventory watermark), Intune audit events (nextLink cursor, time window
bookmark) and Android Management API usage logs (Pub/Sub, acknowledged after writing)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mobile_ingress_inputs import timeutil

from . import fake_google, fake_graph, fake_jamf
from .fakeserver import Answer, FakeServer, Request, serving

SCRIPT = Path(__file__).with_name("run_local.py")
KILLS = 12
PAGE_SIZE = 3
# Records per world: enough pages that twelve interrupted runs cannot finish the work between them,
# however fast the machine (a kill lands at most KILL_AFTER seconds into a run's first answer).
RECORDS = 240
KILL_AFTER = 0.15


def slowed(server: FakeServer, delay: float) -> None:
    """Every answer a little late, so that kills land in the middle of runs."""
    handler = server.handler

    def handle(request: Request) -> Answer:
        time.sleep(delay)
        return handler(request)

    server.handler = handle


def counted(server: FakeServer) -> list[int]:
    """A live count of the requests the server has answered."""
    handler = server.handler
    seen = [0]

    def handle(request: Request) -> Answer:
        seen[0] += 1
        return handler(request)

    server.handler = handle
    return seen


def jamf_world() -> tuple[Any, set[str], dict[str, Any]]:
    fake = fake_jamf.FakeJamf([fake_jamf.device(n) for n in range(1, RECORDS + 1)])
    host = fake.server.url.split("//")[1]
    ids = {f"jamf:{host}:mobiledevice:{n}:2026-11-20T10:00:00.000Z" for n in range(1, RECORDS + 1)}
    return fake, ids, {}


def intune_world() -> tuple[Any, set[str], dict[str, Any]]:
    fake = fake_graph.FakeGraph()
    start = time.time() - 3 * 86400
    fake.audit = [fake_graph.audit_event(n, timeutil.iso(start + 600 * n)) for n in range(RECORDS)]
    ids = {f"intune:{fake_graph.TENANT}:auditEvent:{e['id']}" for e in fake.audit}
    return fake, ids, {"streams": ["auditEvents"]}


def amapi_world() -> tuple[Any, set[str], dict[str, Any]]:
    fake = fake_google.FakeGoogle()
    fake.messages = [
        fake_google.message(n, "USAGE_LOGS", fake_google.usage_batch(n, 0, 3))
        for n in range(1, RECORDS // 3 + 1)
    ]
    ids = {
        f"amapi:{fake_google.ENTERPRISE}/devices/3a{n:014x}:usagelog:{1000 + i}"
        for n in range(1, RECORDS // 3 + 1)
        for i in range(3)
    }
    return fake, ids, {"streams": ["usageLogs"]}


WORLDS: dict[str, Callable[[], tuple[Any, set[str], dict[str, Any]]]] = {
    "jamf": jamf_world,
    "intune": intune_world,
    "amapi": amapi_world,
}


def lines(out: Path) -> list[dict[str, Any]]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines() if line]


@pytest.mark.parametrize("provider", list(WORLDS))
def test_killed_at_random_moments_nothing_is_lost_and_repeats_stay_in_the_in_flight_batch(
    provider: str, tmp_path: Path
) -> None:
    fake, expected, extra = WORLDS[provider]()
    slowed(fake.server, 0.01)
    requests = counted(fake.server)
    out = tmp_path / "events.ndjson"
    config = {
        "provider": provider,
        "url": fake.server.url,
        "state_dir": str(tmp_path / "state"),
        "out": str(out),
        "pause": 0.02,
        "page_size": PAGE_SIZE,
        **extra,
    }
    if provider == "amapi":
        key_file = tmp_path / "key.json"
        key_file.write_text(fake_google.service_account_json(fake.token_uri))
        config["key_file"] = str(key_file)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    rng = random.Random(f"kill-{provider}")
    interrupted = 0
    # For each process: the batch last written before it started (the one in flight, if any).
    runs: list[tuple[int, set[str]]] = []
    with serving(fake.server):
        for _ in range(KILLS):
            before = lines(out)
            in_flight = set()
            if before:
                last = before[-1]
                in_flight = {
                    e["id"] for e in before if (e["run"], e["batch"]) == (last["run"], last["batch"])
                }
            asked = requests[0]
            process = subprocess.Popen(
                [sys.executable, str(SCRIPT), str(config_file)], stderr=subprocess.DEVNULL
            )
            # Time the kill from the run's first request, not from the start of the interpreter,
            # whose start-up time depends on the machine's load.
            deadline = time.monotonic() + 30
            while requests[0] == asked and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, KILL_AFTER))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                interrupted += 1
            process.wait(timeout=10)
            runs.append((process.pid, in_flight))
        before = lines(out)
        last = before[-1] if before else None
        in_flight = {
            e["id"] for e in before if last and (e["run"], e["batch"]) == (last["run"], last["batch"])
        }
        final = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(config_file)], stderr=subprocess.PIPE, text=True
        )
        _, stderr = final.communicate(timeout=60)
        runs.append((final.pid, in_flight))
    assert final.returncode == 0, stderr[-2000:]
    written = lines(out)
    assert interrupted >= KILLS - 1, f"only {interrupted} kills landed inside a run"
    # Every event carries its source id, the same one the line names.
    assert all(e["event"]["mobile_ingress"]["source_id"] == e["id"] for e in written)
    # No loss: everything the server has was written.
    assert {e["id"] for e in written} == expected
    # Repeats: what a process wrote that an earlier one had written is within the batch that was
    # in flight when that process started, and never more than one page of records.
    seen: set[str] = set()
    repeats = 0
    by_pid: dict[int, list[str]] = {}
    for e in written:
        by_pid.setdefault(e["run"], []).append(e["id"])
    for pid, flight in runs:
        ids = by_pid.get(pid, [])
        again = {i for i in ids if i in seen}
        assert again <= flight, (
            f"{provider}: run {pid} repeated {sorted(again - flight)} outside the in-flight batch"
        )
        assert len(ids) == len(set(ids)), f"{provider}: run {pid} wrote an id twice"
        repeats += len(again)
        seen.update(ids)
