"""One run of an input outside Splunk, for the kill test: file checkpoints, events appended to an
NDJSON file (one line per event with the run's pid and batch number), exit 0 when the run's
health is ok. A pause after each batch is written (before its checkpoint) widens the window a kill
must hit to matter.

    python run_local.py CONFIG.json
CONFIG: {provider, url, state_dir, out, pause, page_size, key_file?, streams?}
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
# Deliberate: this script runs in its own process (the kill test), where pytest's pythonpath does not
# reach; bin/ on sys.path as splunkd runs an input.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "package" / "bin"))

from mobile_ingress_inputs import amapi, intune, jamf  # noqa: E402
from mobile_ingress_inputs.collect import RunSettings, make_context, run  # noqa: E402
from mobile_ingress_inputs.httpclient import RetryPolicy  # noqa: E402
from stores import FileCheckpoints  # noqa: E402  (this folder is on sys.path: the script runs from it)

TENANT = "8f2c6a1e-4b7d-4c3e-9a5f-0d1e2f3a4b5c"


class BatchFile:
    def __init__(self, path: str, pause: float) -> None:
        self.path = path
        self.pause = pause
        self.batch = 0

    def write(self, events) -> None:  # type: ignore[no-untyped-def]
        self.batch += 1
        data = "".join(
            json.dumps({"run": os.getpid(), "batch": self.batch, "id": e.source_id, "event": e.data}) + "\n"
            for e in events
        ).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)  # one write: a kill leaves the batch whole or absent
            os.fsync(fd)
        finally:
            os.close(fd)
        time.sleep(self.pause)


def main() -> int:
    config = json.loads(Path(sys.argv[1]).read_text())
    logger = logging.getLogger("run_local")
    logger.addHandler(logging.StreamHandler(sys.stderr))
    logger.setLevel(logging.INFO)
    settings = RunSettings(
        config["provider"],
        "kill_test",
        policy=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02, timeout=5.0),
        page_size=config["page_size"],
        allow_loopback_http=True,
    )
    ctx = make_context(settings, logger)
    url = config["url"]
    if config["provider"] == "jamf":
        account = jamf.JamfAccount(url, "jamf-client-0c1d", "jamf-SECRET-a8f3e2b7c9d4").validated(True)
        streams = jamf.streams(ctx, account)
    elif config["provider"] == "intune":
        graph = intune.IntuneAccount(
            TENANT,
            "3c9d8e7f-1a2b-4c5d-8e9f-0a1b2c3d4e5f",
            "graph~SECRET.q8Zr3Kp7Wm2Xv9Ln4",
            login_url=url,
            graph_url=url,
        ).validated(True)
        streams = intune.streams(ctx, graph, tuple(config["streams"]))
    else:
        acct, key = amapi.AmapiAccount(
            "enterprises/LC04abcd12",
            Path(config["key_file"]).read_text(),
            "projects/mdm-telemetry-01/subscriptions/amapi-usage",
            api_url=url,
            pubsub_url=url,
        ).validated(True)
        streams = amapi.streams(ctx, acct, key, tuple(config["streams"]))
    summary = run(
        ctx, streams, FileCheckpoints(config["state_dir"]), BatchFile(config["out"], config["pause"])
    )
    return 0 if summary["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
