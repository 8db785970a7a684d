"""Record the dashboards' results by running their searches over the nine-day replay.

    python tools/replay_dashboards.py --out output/dashboards/recorded

Builds the scenario of tests/replay (seed 7), replays it (every shipped saved search on its
schedule in the offline executor, about 90 s), then runs every data source of every shipped view
the way Dashboard Studio would, looked at as tests/dashboards/looks.py says (the end of the replay,
a search head without Enterprise Security), and writes one JSON file per dashboard for
dashboards/scripts/render.mjs (`make dashboards` draws them into docs/img/dashboards/). The same
recording feeds tests/dashboards. Exits 1 when a data source fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.dashboards.looks import looks  # noqa: E402
from tests.dashboards.recording import record  # noqa: E402
from tests.dashboards.support import definition  # noqa: E402
from tests.replay.deployment import Deployment  # noqa: E402
from tests.replay.scenario import build_scenario  # noqa: E402

DEFAULT_OUT = ROOT / "output" / "dashboards" / "recorded"
SEED = 7


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder ({DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=SEED, help=f"the scenario's seed (default {SEED})")
    args = parser.parse_args(argv)
    started = time.monotonic()
    scenario = build_scenario(seed=args.seed)
    deployment = Deployment(scenario)
    failed = False
    try:
        deployment.advance(scenario.end)
        print(f"replayed {len(scenario.events)} events in {time.monotonic() - started:.0f} s")
        for name, look in looks(deployment).items():
            recording = record(deployment.sp, definition(name), look)
            path = recording.write(args.out)
            for ds_id, error in recording.errors.items():
                print(f"{name}: {ds_id}: {error}", file=sys.stderr)
                failed = True
            print(f"recorded {name} ({look.why}): {path}")
    finally:
        deployment.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
