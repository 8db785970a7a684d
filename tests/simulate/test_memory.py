from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import mobile_ingress

# The child's own peak: VmHWM belongs to its address space, which exec made new. ru_maxrss would
# not do: Linux keeps it across execve, so a child of a large pytest process reports the parent's.
SCRIPT = """
import resource, sys
from mobile_ingress.simulate import simulate
res = simulate(devices=250, hours=24, seed=1, out=sys.argv[1])
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
print(res.events, peak)
"""


def test_a_300k_event_fleet_is_generated_without_holding_all_events(tmp_path: Path) -> None:
    """Peak memory of a fresh process stays far below what its events would take as a list.

    Not timed; the bound is on memory only. Events are generated per device and written through
    bounded sorted runs, so the peak is set by the run size, not by the fleet size.
    """
    src = str(Path(mobile_ingress.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, check=True, env=env
    )
    n_events, peak = (int(x) for x in proc.stdout.split())
    assert n_events >= 300_000
    # what holding them would cost: measured on a sample of the events themselves, as dicts
    tracemalloc.start()
    with open(tmp_path / "events.ndjson", encoding="utf-8") as fh:
        sample = [json.loads(next(fh)) for _ in range(5_000)]
    per_event = tracemalloc.get_traced_memory()[0] / len(sample)
    tracemalloc.stop()
    all_as_dicts = per_event * n_events
    assert all_as_dicts > 300e6
    assert peak < all_as_dicts / 3, f"peak RSS {peak / 1e6:.0f} MB vs {all_as_dicts / 1e6:.0f} MB of dicts"
