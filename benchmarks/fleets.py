"""Benchmark fleets: made once by the simulator, cached under .cache/bench/, reused by every run.

A fleet of 1,000 devices is simulated for long enough and its time-ordered `events.ndjson` cut to
exactly N events, so 100k, 1M and 10M are prefixes in time of runs of the same fleet: growth from
1M to 10M is more hours of the same fleet, the way a back-test over a longer period grows.

Each shape (`mobile_ingress.simulate.shapes`) is its own fleet: the simulator's own mix
(`default`), and the retrieval-heavy, state-heavy and file-heavy mixes, all with the same planted
cases. The default fleet keeps its old folder name (`fleet-1M`), the others add the shape
(`fleet-retrieval-heavy-1M`).

A fleet is valid only for the simulator that made it: `.complete` holds a fingerprint of the
simulator's sources and of the command that ran it, and a fleet whose fingerprint differs (or an
older fleet with an empty `.complete`) is simulated again, so an edit to the simulator never leaves
the benchmark measuring stale events.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import mobile_ingress.simulate
from mobile_ingress.engine.lookups import COLUMNS
from mobile_ingress.simulate.lookups import shipped_lookups_dir
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


def hours_for(events: int, shape: str) -> float:
    """Hours of simulated time that hold `events` events of the shape (made 10 % longer, then cut)."""
    return round(events / shape_named(shape).events_per_hour * 1.1 + 0.5, 1)


def simulator_fingerprint(events: int, shape: str) -> str:
    """What the fleet's bytes depend on: the simulator package's files (code and data), what it
    takes from outside it (the engine's lookup columns, the shipped lookups it plants around) and
    the simulate command's arguments."""
    digest = hashlib.sha256()
    package = Path(mobile_ingress.simulate.__file__).parent
    sources = [path for path in package.rglob("*") if path.is_file() and "__pycache__" not in path.parts]
    for source in sorted(sources) + sorted(shipped_lookups_dir().glob("*.csv")):
        digest.update(source.relative_to(source.parents[1]).as_posix().encode() + b"\0")
        digest.update(source.read_bytes() + b"\0")
    digest.update(repr(sorted((name, tuple(columns)) for name, columns in COLUMNS.items())).encode())
    digest.update(f"devices={DEVICES} seed={SEED} shape={shape} hours={hours_for(events, shape)} "
                  f"events={events}".encode())  # fmt: skip
    return digest.hexdigest()


def is_current(folder: Path, fingerprint: str) -> bool:
    done = folder / ".complete"
    return done.exists() and done.read_text(encoding="utf-8").strip() == fingerprint


def fleet(events: int, log=print, shape: str = "default") -> Fleet:  # type: ignore[no-untyped-def]
    """The cached fleet of exactly `events` events, simulated again whenever the simulator changed."""
    key = label(events) if shape == "default" else f"{shape}-{label(events)}"
    folder = CACHE / f"fleet-{key}"
    result = Fleet(label(events), events, folder, shape)
    fingerprint = simulator_fingerprint(events, shape)
    if is_current(folder, fingerprint):
        return result
    if (folder / ".complete").exists():
        log(f"the cached {result.key} fleet was made by another simulator version: simulating it again")
    shutil.rmtree(folder, ignore_errors=True)
    work = CACHE / f"tmp-{result.key}"
    shutil.rmtree(work, ignore_errors=True)
    hours = hours_for(events, shape)
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
    (folder / ".complete").write_text(fingerprint + "\n", encoding="utf-8")
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
