"""Benchmark fleets: made once by the simulator, cached under .cache/bench/, reused by every run.

A fleet of 1,000 devices is simulated for long enough and its time-ordered `events.ndjson` cut to
exactly N events, so 100k, 1M and 10M are prefixes in time of runs of the same fleet: growth from
1M to 10M is more hours of the same fleet, the way a back-test over a longer period grows.

Each shape (`mobile_ingress.simulate.shapes`) is its own fleet: the simulator's own mix
(`default`), and the retrieval-heavy, state-heavy and file-heavy mixes, all with the same planted
cases. The default fleet keeps its old folder name (`fleet-1M`), the others add the shape
(`fleet-retrieval-heavy-1M`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from mobile_ingress.simulate.shapes import SHAPES, shape_named

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "bench"
DEVICES = 1000
SEED = 8
SHAPE_NAMES = tuple(SHAPES)


@dataclass(frozen=True)
class Fleet:
    name: str  # the size's label, e.g. 1M
    events: int
    folder: Path
    shape: str = "default"

    @property
    def ndjson(self) -> Path:
        return self.folder / "events.ndjson"

    @property
    def lookups(self) -> Path:
        return self.folder / "lookups"

    @property
    def key(self) -> str:
        """The fleet's cache name: its size, and its shape unless default."""
        return self.name if self.shape == "default" else f"{self.shape}-{self.name}"


def label(events: int) -> str:
    return f"{events // 1_000_000}M" if events >= 1_000_000 else f"{events // 1000}k"


def fleet(events: int, log=print, shape: str = "default") -> Fleet:  # type: ignore[no-untyped-def]
    """The cached fleet of exactly `events` events, simulated the first time it is asked for."""
    rate = shape_named(shape).events_per_hour
    key = label(events) if shape == "default" else f"{shape}-{label(events)}"
    folder = CACHE / f"fleet-{key}"
    result = Fleet(label(events), events, folder, shape)
    done = folder / ".complete"
    if done.exists():
        return result
    shutil.rmtree(folder, ignore_errors=True)
    work = CACHE / f"tmp-{result.key}"
    shutil.rmtree(work, ignore_errors=True)
    hours = round(events / rate * 1.1 + 0.5, 1)  # made 10 % longer, then cut
    log(f"simulating the {result.key} fleet once ({DEVICES} devices, {hours} h, shape {shape}) into {folder}")
    subprocess.run(
        [sys.executable, "-m", "mobile_ingress.cli.main", "simulate", "--devices", str(DEVICES),
         "--hours", str(hours), "--seed", str(SEED), "--shape", shape, "--out", str(work)],
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
    # python benchmarks/fleets.py [--shape NAME] N...
    arguments = sys.argv[1:]
    chosen = ["default"]
    if arguments and arguments[0] == "--shape":
        chosen = list(SHAPE_NAMES) if arguments[1] == "all" else [arguments[1]]
        arguments = arguments[2:]
    for name in chosen:
        for n in arguments:
            print(fleet(int(n), shape=name).folder)
