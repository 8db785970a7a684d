"""`make bench` / `make bench-quick`: the command line, the search command and a DuckDB SQL peer on
simulated fleets of every shape, each against what bounds it, printed as one table.

Every figure is the median of RUNS runs; every ratio is taken between measures of the same round
(interleaved, so both sides see the same machine load) and the median ratio is shown. Beside each
wall-clock time is the child's CPU time (user + system, all its threads): on a shared machine the
wall clock grows with other people's load, CPU time much less, so the CPU ratio is the cross-check
of a wall-clock ratio taken under load. Speed is measured and reported here, never asserted in a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tools"))

import fleets  # noqa: E402
import scpv2  # noqa: E402

PY = sys.executable
CHUNK = 50_000

# Targets (issue 16, this 2-core machine)
PLAIN_VS_FLOOR = 3.0  # detect: at most this many times the json.loads parse floor
FAST_VS_PEER = 2.0  # detect --fast: at most this many times the DuckDB peer
GROWTH_LIMIT = 11.0  # time from 1M to 10M events
RSS_LIMIT_MB = 500  # peak RSS at 10M events
SCP_TARGET = 0.5  # ingresscorrelate: at least this share of the protocol floor (required fields)


@dataclass
class Run:
    seconds: float
    peak_mb: float
    cpu: float  # user + system seconds of the child and everything it waited for
    stdout: str = ""


@dataclass
class Row:
    section: str
    measure: str
    size: str
    shape: str = "default"
    seconds: float | None = None
    rate: float | None = None
    peak_mb: float | None = None
    against: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    notes: list[str] = field(default_factory=list)
    cpu_seconds: float | None = None
    cpu_ratio: float | None = None
    runs: int | None = None


def run_child(argv: Sequence[str], stdin: Path | None = None, stdout_file: Path | None = None) -> Run:
    """Time a child process; its own peak RSS comes back through benchmarks/child.py."""
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as report:
        command = [PY, str(HERE / "child.py"), report.name, *argv]
        # Opened here, closed in the finally below: either may be a constant instead of a file.
        stdin_handle = open(stdin, "rb") if stdin else subprocess.DEVNULL  # noqa: SIM115
        out_handle = open(stdout_file, "wb") if stdout_file else subprocess.PIPE  # noqa: SIM115
        try:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(command, stdin=stdin_handle, stdout=out_handle, stderr=subprocess.PIPE)
            seconds = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        finally:
            if stdin:
                stdin_handle.close()  # type: ignore[union-attr]
            if stdout_file:
                out_handle.close()  # type: ignore[union-attr]
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
        peak_kib = int(report.read().strip() or 0)
    text = done.stdout.decode() if isinstance(done.stdout, bytes) else ""
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(seconds, peak_kib / 1024, cpu, text)


def ratio_of(tops: Sequence[float], bottoms: Sequence[float]) -> float:
    """The median of the per-round ratios (each round's two measures saw the same load)."""
    return median([top / bottom for top, bottom in zip(tops, bottoms)])


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# ------------------------------------------------------------------------------- the command line


def fast_reader_available() -> bool:
    try:
        from mobile_ingress.cli import fastread
    except ImportError:
        return False
    return fastread.available()


def cli_argv(fleet: fleets.Fleet, out: Path, fast: bool) -> list[str]:
    argv = ["-m", "mobile_ingress.cli.main", "detect", "--quiet", "--lookups", str(fleet.lookups)]
    if fast:
        argv.append("--fast")
    return [*argv, "--output", str(out), str(fleet.ndjson)]


def chains_of(path: Path) -> set[tuple[object, ...]]:
    """(device, app, file path, destination, F - R) of each chain: the file and its retrieval."""
    chains = set()
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("file_path") and not row.get("suppressed_by"):
                chains.add((row["device_id"], row["app_id"], row["file_path"], row["dest"],
                            round(row["delta_seconds"], 3)))  # fmt: skip
    return chains


def measured(row: Row, runs: Sequence[Run], events: int) -> Row:
    """The row with the medians of its runs: wall time, rate, peak RSS and CPU time."""
    row.seconds = median([r.seconds for r in runs])
    row.rate = events / row.seconds
    row.peak_mb = median([r.peak_mb for r in runs])
    row.cpu_seconds = median([r.cpu for r in runs])
    return row


def compared(row: Row, tops: Sequence[Run], bottoms: Sequence[Run]) -> Row:
    """The row with the median per-round ratio of wall times, and of CPU times beside it."""
    row.ratio = ratio_of([r.seconds for r in tops], [r.seconds for r in bottoms])
    row.cpu_ratio = ratio_of([r.cpu for r in tops], [r.cpu for r in bottoms])
    return row


def bench_cli(fleet: fleets.Fleet, runs: int, work: Path, log, plain: bool = True) -> list[Row]:  # type: ignore[no-untyped-def]
    fast = fast_reader_available()
    floor: list[Run] = []
    plain_runs: list[Run] = []
    fast_runs: list[Run] = []
    peer: list[Run] = []
    plain_out, fast_out, peer_out = work / "plain.ndjson", work / "fast.ndjson", work / "peer.ndjson"
    for round_ in range(runs):
        log(f"  {fleet.key}: round {round_ + 1}/{runs} (load {os.getloadavg()[0]:.2f})")
        floor.append(run_child([str(HERE / "parse_floor.py"), str(fleet.ndjson)]))
        if plain:
            plain_runs.append(run_child(cli_argv(fleet, plain_out, fast=False)))
        if fast:
            fast_runs.append(run_child(cli_argv(fleet, fast_out, fast=True)))
        peer.append(
            run_child([str(HERE / "sql_peer.py"), str(fleet.ndjson), str(fleet.lookups), str(peer_out)])
        )
    n, size, shape = fleet.events, fleet.name, fleet.shape
    if not plain:  # --no-plain: the fast reader alone stands for the command line
        plain_runs, plain_out = fast_runs, fast_out
    rows = [measured(Row("command line", "parse floor (json.loads per line)", size, shape), floor, n)]
    if plain:
        row = compared(measured(Row("command line", "mobile-ingress detect", size, shape), plain_runs, n),
                       plain_runs, floor)  # fmt: skip
        row.against, row.target = "parse floor", f"<= {PLAIN_VS_FLOOR}x floor"
        row.met = row.ratio is not None and row.ratio <= PLAIN_VS_FLOOR
        rows.append(row)
    rows.append(measured(Row("SQL peer", "DuckDB SQL chain", size, shape), peer, n))
    if plain:
        row = compared(Row("SQL peer", "mobile-ingress detect vs peer", size, shape), plain_runs, peer)
        row.seconds, row.against = median([r.seconds for r in plain_runs]), "DuckDB peer"
        rows.append(row)
    if fast:
        row = compared(measured(Row("SQL peer", "mobile-ingress detect --fast", size, shape), fast_runs, n),
                       fast_runs, peer)  # fmt: skip
        row.against, row.target = "DuckDB peer", f"<= {FAST_VS_PEER}x peer"
        row.met = row.ratio is not None and row.ratio <= FAST_VS_PEER
        rows.append(row)
    # Same chains?
    cli_chains = chains_of(plain_out)
    peer_chains = chains_of(peer_out)
    same = cli_chains == peer_chains
    detail = f"{len(cli_chains)} chains, peer {len(peer_chains)}"
    if not same:
        detail += f" (only CLI {len(cli_chains - peer_chains)}, only peer {len(peer_chains - cli_chains)})"
    rows.append(Row("SQL peer", "same chains as the peer", size, shape, against=detail, met=same))
    if fast and plain:
        identical = plain_out.read_bytes() == fast_out.read_bytes()
        rows.append(Row("command line", "--fast findings identical", size, shape, met=identical,
                        against="byte for byte"))  # fmt: skip
    return rows


# ----------------------------------------------------------------------------- the search command


def _splunk_fields(record: dict[str, object], line: str, sequence: int) -> dict[str, object]:
    """The record as splunkd sends it when a command asks for every field: the event's own fields
    and `_raw`, plus the fields Splunk adds to every event (index-time and default search-time)."""
    seconds = float(record["_time"])  # type: ignore[arg-type]
    moment = time.gmtime(seconds)
    raw = line.strip()
    return {
        **record,
        "_raw": raw,
        "_cd": f"{sequence // 5000}:{sequence}",
        "_bkt": "mobile~12~0D1E2F3A-4B5C-6D7E-8F90-A1B2C3D4E5F6",
        "_indextime": int(seconds) + 2,
        "_serial": sequence,
        "_si": ["idx-1", "mobile"],
        "_sourcetype": "mobile:edr:normalized",
        "host": "sensor-01",
        "index": "mobile",
        "linecount": 1,
        "punct": "".join(ch for ch in raw if not ch.isalnum() and not ch.isspace())[:100],
        "source": "/var/log/mobile/events.ndjson",
        "sourcetype": "mobile:edr:normalized",
        "splunk_server": "idx-1",
        "timestartpos": 9,
        "timeendpos": 23,
        "date_hour": moment.tm_hour,
        "date_mday": moment.tm_mday,
        "date_minute": moment.tm_min,
        "date_month": time.strftime("%B", moment).lower(),
        "date_second": moment.tm_sec,
        "date_wday": time.strftime("%A", moment).lower(),
        "date_year": moment.tm_year,
        "date_zone": 0,
        "eventtype": "mobile_ingress_events",
        "tag": ["endpoint", "network"],
    }


def scp_stream(fleet: fleets.Fleet, every_field: bool = False) -> Path:
    """The fleet's events, newest first, as the protocol v2 bytes splunkd sends (made once): the
    contract fields alone (what `required_fields` asks for), or every field of the event."""
    # Named for the fleet's simulator fingerprint: a fleet simulated again makes its streams again.
    stamp = fleets.simulator_fingerprint(fleet.events, fleet.shape)[:12]
    path = fleets.CACHE / f"scp-{fleet.key}-{stamp}{'-all' if every_field else ''}.bin"
    if path.exists():
        return path
    with open(fleet.ndjson, encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip()]
    records = [json.loads(line) for line in lines]
    times = [float(record["_time"]) for record in records]  # type: ignore[arg-type]
    order = sorted(range(len(records)), key=times.__getitem__, reverse=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as out:
        out.write(scpv2.getinfo([], str(fleets.CACHE / "dispatch")))
        for start in range(0, len(order), CHUNK):
            indexes = order[start : start + CHUNK]
            if every_field:
                chunk = [_splunk_fields(records[i], lines[i], i) for i in indexes]
            else:
                chunk = [records[i] for i in indexes]
            out.write(scpv2.execute(chunk, finished=start + CHUNK >= len(order)))
    tmp.replace(path)
    return path


def app_dir(fleet: fleets.Fleet) -> Path:
    """An app folder as Splunk has it: bin/ with the command, shipped lookups, the fleet's as _local."""
    app = fleets.CACHE / f"app-{fleet.key}"
    shutil.rmtree(app, ignore_errors=True)
    (app / "lookups").mkdir(parents=True)
    shutil.copytree(ROOT / "package" / "bin", app / "bin", ignore=shutil.ignore_patterns("__pycache__"))
    for path in (ROOT / "package" / "lookups").glob("*.csv"):
        shutil.copy(path, app / "lookups" / path.name)
    for path in fleet.lookups.glob("*.csv"):
        shutil.copy(path, app / "lookups" / f"{path.stem}_local.csv")
    return app


def bench_scp(fleet: fleets.Fleet, runs: int, work: Path, log) -> list[Row]:  # type: ignore[no-untyped-def]
    required = scp_stream(fleet)
    every = scp_stream(fleet, every_field=True)
    app = app_dir(fleet)
    (fleets.CACHE / "dispatch").mkdir(exist_ok=True)
    command: list[Run] = []
    floor: list[Run] = []
    floor_all: list[Run] = []
    out = work / "scp.out"
    for round_ in range(runs):
        log(f"  search command {fleet.key}: round {round_ + 1}/{runs} (load {os.getloadavg()[0]:.2f})")
        floor_all.append(run_child([str(HERE / "noop_command.py")], stdin=every, stdout_file=out))
        floor.append(run_child([str(HERE / "noop_command.py")], stdin=required, stdout_file=out))
        command.append(run_child([str(app / "bin" / "ingresscorrelate.py")], stdin=required, stdout_file=out))
    chunks = scpv2.parse_output(out.read_bytes())
    errors = [c.metadata for c in chunks if c.metadata.get("error")]
    if errors:
        raise RuntimeError(f"ingresscorrelate failed: {errors[:1]}")
    n, size, shape = fleet.events, fleet.name, fleet.shape
    section = "search command"
    # Shares of the floor's records/s: the floor's time over the command's.
    measure = "ingresscorrelate, required fields, 50k-record chunks, newest first"
    correlate = compared(measured(Row(section, measure, size, shape), command, n), floor, command)
    correlate.against, correlate.target = "required-fields floor", f">= {SCP_TARGET} of floor"
    correlate.met = correlate.ratio is not None and correlate.ratio >= SCP_TARGET
    versus_all = compared(
        Row(section, "ingresscorrelate vs the every-field floor", size, shape), floor_all, command
    )
    versus_all.against = "every-field floor"
    return [
        measured(
            Row(section, "protocol floor, every field (no-op streaming command)", size, shape), floor_all, n
        ),
        measured(
            Row(section, "protocol floor, required fields (no-op streaming command)", size, shape), floor, n
        ),
        correlate,
        versus_all,
    ]


def mix_rows(fleet: fleets.Fleet) -> list[Row]:
    """The fleet's activities, in per cent (counted once, kept beside the fleet)."""
    path = fleet.folder / "mix.json"
    if not path.exists():
        counts: dict[str, int] = {}
        with open(fleet.ndjson, encoding="utf-8") as handle:
            for line in handle:
                activity = json.loads(line).get("activity")
                counts[str(activity)] = counts.get(str(activity), 0) + 1
        path.write_text(json.dumps(counts), encoding="utf-8")
    counts = json.loads(path.read_text(encoding="utf-8"))
    total = sum(counts.values()) or 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    shares = [(name, 100 * count / total) for name, count in ranked]
    text = ", ".join(f"{name} {share:.0f}%" for name, share in shares if share >= 0.5)
    return [Row("fleet", "activities", fleet.name, fleet.shape, against=text)]


# ---------------------------------------------------------------------------------------- table


def growth_rows(rows: list[Row], small: str, large: str, factor: float) -> list[Row]:
    out = []
    shapes = list(dict.fromkeys(r.shape for r in rows))
    for shape in shapes:
        for measure in ("mobile-ingress detect", "mobile-ingress detect --fast"):
            a = next((r for r in rows if r.measure == measure and r.size == small and r.shape == shape), None)
            b = next((r for r in rows if r.measure == measure and r.size == large and r.shape == shape), None)
            if a and b and a.seconds and b.seconds:
                g = b.seconds / a.seconds
                cpu_g = b.cpu_seconds / a.cpu_seconds if a.cpu_seconds and b.cpu_seconds else None
                out.append(Row("growth", f"{measure}: time {small} -> {large}", f"x{factor:g} events", shape,
                               ratio=g, target=f"< {GROWTH_LIMIT}x", met=g < GROWTH_LIMIT, cpu_ratio=cpu_g,
                               against=f"memory x{(b.peak_mb or 0) / (a.peak_mb or 1):.2f}"))  # fmt: skip
            if b and b.peak_mb is not None and large == "10M":
                out.append(Row("memory", f"{measure}: peak RSS", large, shape, peak_mb=b.peak_mb,
                               target=f"< {RSS_LIMIT_MB} MB", met=b.peak_mb < RSS_LIMIT_MB))  # fmt: skip
    return out


def render(rows: list[Row], console: Console, title: str) -> None:
    table = Table(title=title)
    numbers = ("median s", "cpu s", "events/s", "peak RSS MB", "ratio", "cpu ratio")
    for name in ("section", "measure", "shape", "events", *numbers[:4], "vs", *numbers[4:], "target", "met"):
        table.add_column(name, overflow="fold", justify="right" if name in numbers else "left")
    for r in rows:
        met = "" if r.met is None else ("[green]yes[/]" if r.met else "[red]no[/]")
        table.add_row(
            r.section, r.measure, r.shape, r.size,
            "" if r.seconds is None else f"{r.seconds:.2f}",
            "" if r.cpu_seconds is None else f"{r.cpu_seconds:.2f}",
            "" if r.rate is None else f"{r.rate:,.0f}",
            "" if r.peak_mb is None else f"{r.peak_mb:.0f}",
            r.against, "" if r.ratio is None else f"{r.ratio:.2f}",
            "" if r.cpu_ratio is None else f"{r.cpu_ratio:.2f}", r.target, met,
        )  # fmt: skip
    console.print(table)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, load {load_text()}"


def load_text() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k events only")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (median); default 3")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument(
        "--sizes", type=int, nargs="+", help="fleet sizes (default 1M and 10M; 100k with --quick)"
    )
    parser.add_argument("--shapes", nargs="+", choices=fleets.SHAPE_NAMES, help="fleet shapes (default all)")
    parser.add_argument("--scp-size", type=int, help="search command fleet (default the first size; 0: skip)")
    parser.add_argument("--scp-shapes", nargs="+", choices=fleets.SHAPE_NAMES,
                        help="search command shapes (default: every shape measured)")  # fmt: skip
    parser.add_argument("--no-plain", action="store_true", help="the command line with --fast only")
    parser.add_argument(
        "--merge", nargs="+", metavar="JSON", help="print one table from earlier --json files"
    )
    args = parser.parse_args(argv)
    if args.merge:
        merged = [Row(**row) for path in args.merge for row in json.loads(Path(path).read_text())]
        merged = [r for r in merged if r.section != "growth" and r.section != "memory"]
        sizes_seen = [s for s in ("100k", "1M", "10M") if any(r.size == s for r in merged)]
        if "1M" in sizes_seen and "10M" in sizes_seen:
            merged += growth_rows(merged, "1M", "10M", 10)
        console = Console(width=220)
        render(merged, console, "mobile-ingress benchmarks (merged runs)")
        return 0
    console = Console(stderr=False, width=220)
    log = lambda text: console.print(f"[dim]{text}[/]")  # noqa: E731
    sizes = args.sizes or ([100_000] if args.quick else [1_000_000, 10_000_000])
    shapes = args.shapes or list(fleets.SHAPE_NAMES)
    runs = args.runs or 3
    started = time.perf_counter()
    before = machine()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        for size in sizes:
            for shape in shapes:
                fleet = fleets.fleet(size, log=log, shape=shape)
                rows += mix_rows(fleet)
                rows += bench_cli(fleet, runs, work, log, plain=not args.no_plain)
        scp_size = sizes[0] if args.scp_size is None else args.scp_size
        if scp_size:
            for shape in args.scp_shapes or shapes:
                rows += bench_scp(fleets.fleet(scp_size, log=log, shape=shape), runs, work, log)
        if len(sizes) == 2:
            rows += growth_rows(rows, fleets.label(sizes[0]), fleets.label(sizes[1]), sizes[1] / sizes[0])
    # The load beside the figures: kept in --json too, so a merged table says what each run saw.
    sizes_text = " + ".join(fleets.label(size) for size in sizes)
    rows.insert(0, Row("run", "machine and load (1, 5, 15 min)", sizes_text, "+".join(shapes), runs=runs,
                       against=f"{before} before; load {load_text()} after"))  # fmt: skip
    title = f"mobile-ingress benchmarks ({'quick' if args.quick else 'full'}, median of {runs} runs)"
    render(rows, console, title)
    console.print(
        f"machine: {before} (before); load {load_text()} (after); {time.perf_counter() - started:.0f} s"
    )
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
