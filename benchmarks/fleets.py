"""Benchmark fleets: made once by the simulator, cached under .cache/bench/, reused by every run.

A fleet of 1,000 devices (about 51,000 events an hour) is simulated for long enough and its
time-ordered `events.ndjson` cut to exactly N events, so 100k, 1M and 10M are prefixes in time of
runs of the same fleet: growth from 1M to 10M is more hours of the same fleet, the way a back-test
over a longer period grows.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "bench"
DEVICES = 1000
EVENTS_PER_HOUR = 51_000  # measured for this fleet; the run is made 10 % longer, then cut
SEED = 8


@dataclass(frozen=True)
class Fleet:
    name: str
    events: int
    folder: Path

    @property
    def ndjson(self) -> Path:
        return self.folder / "events.ndjson"

    @property
    def lookups(self) -> Path:
        return self.folder / "lookups"


def label(events: int) -> str:
    return f"{events // 1_000_000}M" if events >= 1_000_000 else f"{events // 1000}k"


def fleet(events: int, log=print) -> Fleet:  # type: ignore[no-untyped-def]
    """The cached fleet of exactly `events` events, simulated the first time it is asked for."""
    folder = CACHE / f"fleet-{label(events)}"
    done = folder / ".complete"
    result = Fleet(label(events), events, folder)
    if done.exists():
        return result
    shutil.rmtree(folder, ignore_errors=True)
    work = CACHE / f"tmp-{label(events)}"
    shutil.rmtree(work, ignore_errors=True)
    hours = round(events / EVENTS_PER_HOUR * 1.1 + 0.5, 1)
    log(f"simulating the {label(events)} fleet once ({DEVICES} devices, {hours} h) into {folder}")
    subprocess.run(
        [sys.executable, "-m", "mobile_ingress.cli.main", "simulate", "--devices", str(DEVICES),
         "--hours", str(hours), "--seed", str(SEED), "--out", str(work)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    written = 0
    with open(work / "events.ndjson", "rb") as source, open(work / "cut.ndjson", "wb") as out:
        for line in source:
            if written == events:
                break
            out.write(line)
            written += 1
    if written < events:
        raise RuntimeError(f"the simulator wrote {written} events, fewer than {events}")
    (work / "cut.ndjson").replace(work / "events.ndjson")
    work.replace(folder)
    done.touch()
    return result


if __name__ == "__main__":
    for n in sys.argv[1:]:
        print(fleet(int(n)).folder)
