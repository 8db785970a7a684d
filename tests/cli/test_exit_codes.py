"""How `detect` ends when the user stops it: Ctrl-C, or a reader that closes the pipe (`| head`)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from .test_detect import EVENTS, write_ndjson

RUN_MAIN = "import sys; from mobile_ingress.cli.main import main; sys.exit(main(sys.argv[1:]))"
# main() in a process that sends itself SIGINT while `detect -` waits for stdin.
INTERRUPTED = (
    "import os, signal, sys, threading; from mobile_ingress.cli.main import main;"
    " threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start(); sys.exit(main(sys.argv[1:]))"
)


def many_findings(tmp_path: Path, chains: int = 400) -> Path:
    """Far more findings than a pipe buffers (64 KiB), so writing them meets a closed pipe."""
    events = [
        {**e, "device_id": f"pixel-{n}", "event_id": f"{e['event_id']}-{n}"}
        for n in range(chains)
        for e in EVENTS
    ]
    return write_ndjson(tmp_path / "e.ndjson", events)


def test_ctrl_c_prints_one_line_and_exits_130() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED, "detect", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        proc.wait(timeout=60)  # stdin stays open: detect waits on it until the signal comes
        assert proc.stdout is not None and proc.stderr is not None
        out, err = proc.stdout.read(), proc.stderr.read()
    assert proc.returncode == 130 and out == "" and err == "mobile-ingress: interrupted\n"


def test_without_ctrl_c_stdin_is_read_to_the_end() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUN_MAIN, "detect", "-"],
        input="".join(json.dumps(e) + "\n" for e in EVENTS),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0 and "interrupted" not in done.stderr and json.loads(done.stdout)


def test_a_closed_pipe_ends_quietly_with_the_sigpipe_status(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", RUN_MAIN, "detect", str(many_findings(tmp_path))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()  # as `head -1` does: one line, then the pipe is closed
        proc.stdout.close()
        err = proc.stderr.read()
        proc.wait(timeout=60)
    assert json.loads(first) and err == b"" and proc.returncode == 128 + signal.SIGPIPE


def test_a_reader_that_reads_everything_gets_every_finding_and_the_summary(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUN_MAIN, "detect", str(many_findings(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 400 and "400 findings" in done.stderr
