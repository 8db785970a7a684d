"""The per-run health signal: counters each part of a run adds to, logged as one structured line
(`run_summary {json}`) that the data health dashboard reads from the add-on's log."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field

SUMMARY_MARKER = "run_summary"


@dataclass
class StreamHealth:
    records: int = 0
    pages: int = 0
    skipped_records: int = 0
    malformed_pages: int = 0
    paging_loops: int = 0
    status: str = "ok"
    error: str = ""
    # What happened to the saved checkpoint, when not simply resumed: reset because the input
    # now reads another server, or damaged and replaced by the configured start.
    checkpoint: str = ""
    # Epoch seconds of the newest record written (None: nothing written this run).
    newest: float | None = None


@dataclass
class RunHealth:
    provider: str
    input: str
    started: float
    retries: int = 0
    token_renewals: int = 0
    # Why the run stopped early at its checkpoints (the time budget, an answer over the size cap).
    stopped: str = ""
    streams: dict[str, StreamHealth] = field(default_factory=dict)

    def stream(self, name: str) -> StreamHealth:
        return self.streams.setdefault(name, StreamHealth())

    def summary(self, now: float) -> dict[str, object]:
        streams = {name: asdict(s) for name, s in self.streams.items()}
        newest = [s.newest for s in self.streams.values() if s.newest is not None]
        statuses = {s.status for s in self.streams.values()}
        return {
            "provider": self.provider,
            "input": self.input,
            "status": "ok" if statuses <= {"ok"} else ("failed" if statuses == {"failed"} else "partial"),
            "records": sum(s.records for s in self.streams.values()),
            "pages": sum(s.pages for s in self.streams.values()),
            "retries": self.retries,
            "token_renewals": self.token_renewals,
            "skipped_records": sum(s.skipped_records for s in self.streams.values()),
            "malformed_pages": sum(s.malformed_pages for s in self.streams.values()),
            "paging_loops": sum(s.paging_loops for s in self.streams.values()),
            "checkpoint_resets": sum(1 for s in self.streams.values() if s.checkpoint),
            "stopped": self.stopped or None,
            "duration_s": round(now - self.started, 3),
            # Seconds from the newest record written to the end of the run: how far behind we are.
            "lag_s": round(now - max(newest), 3) if newest else None,
            "streams": streams,
        }

    def log(self, logger: logging.Logger, now: float) -> dict[str, object]:
        summary = self.summary(now)
        level = logging.INFO if summary["status"] == "ok" else logging.WARNING
        logger.log(level, "%s %s", SUMMARY_MARKER, json.dumps(summary, sort_keys=True))
        return summary
