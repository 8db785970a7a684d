"""The built app's `bin/ingresscorrelate.py` as splunkd runs it: a separate Python process with no
site-packages (`-S`), so splunklib comes from the app's own `lib/` and the engine from `bin/`,
talking protocol v2 on stdin and stdout. Reads what `make build` left in output/ (fails if missing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from . import scp
from .support import as_splunk, chunks_of, cli_findings, from_row

BUILT = scp.ROOT / "output" / "TA-mobile-ingress"


@pytest.fixture(scope="session")
def built_app(app_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built bin/ and lib/ (linked, not copied) with the test's lookups folder beside them."""
    if not (BUILT / "bin" / "ingresscorrelate.py").is_file():
        pytest.fail("the built app is missing: run `make build` first")
    app = tmp_path_factory.mktemp("built-app")
    (app / "bin").symlink_to(BUILT / "bin")
    (app / "lib").symlink_to(BUILT / "lib")
    shutil.copytree(app_dir / "lookups", app / "lookups")
    return app


def run_built(
    app: Path, args: list[str], chunks: list[list[dict[str, object]]], dispatch: Path
) -> scp.Result:
    stream = scp.getinfo(args, str(dispatch))
    for index, records in enumerate(chunks):
        stream += scp.execute(records, finished=index == len(chunks) - 1)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-S", "-B", str(app / "bin" / "ingresscorrelate.py")],
        input=stream,
        capture_output=True,
        env=env,
        cwd=str(dispatch),
        timeout=300,
    )
    parsed = scp.parse_output(done.stdout)
    messages = []
    for chunk in parsed:
        inspector = chunk.metadata.get("inspector")
        if isinstance(inspector, dict):
            messages.extend((str(k), str(t)) for k, t in inspector.get("messages", []))
    return scp.Result(parsed, done.returncode, messages)


def test_the_built_command_gives_the_command_lines_findings(
    fleet: Path, built_app: Path, events: list[dict[str, object]], tmp_path: Path
) -> None:
    expected = [as_splunk(f) for f in cli_findings(fleet, fleet / "events.ndjson")]
    result = run_built(built_app, ["time_window=300"], chunks_of(events, 500), tmp_path)
    assert result.exit_code == 0, result.messages
    assert result.getinfo["type"] == "events"
    names = list(expected[0])
    assert [from_row(row, names) for row in result.rows] == expected


def test_the_built_command_reports_a_bad_option(
    built_app: Path, events: list[dict[str, object]], tmp_path: Path
) -> None:
    result = run_built(built_app, ["clock_skew=-2"], [events[:5]], tmp_path)
    assert result.exit_code == 1
    assert result.texts("ERROR") == [
        "ingresscorrelate: invalid option clock_skew=-2: clock_skew must be a number at or above 0, got '-2'"
    ]
