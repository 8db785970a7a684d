"""Shared by the input tests: tiny retry settings with recorded (never slept) waits, a logger whose
lines are kept, and one call that runs an input's streams against a stand-in."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mobile_ingress_inputs.collect import RunSettings, make_context, run
from mobile_ingress_inputs.health import SUMMARY_MARKER
from mobile_ingress_inputs.httpclient import RetryPolicy
from mobile_ingress_inputs.provider import RunContext, SweepStream

from .stores import ListSink, MemoryCheckpoints

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.04, max_retry_after=30.0, timeout=2.0)


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_text:
            text += "\n" + record.exc_text
        self.lines.append(f"{record.levelname} {text}")


@dataclass
class Harness:
    """One input's world: its checkpoints, events, sleeps and log lines across runs."""

    provider: str
    input_name: str = "test_input"
    policy: RetryPolicy = FAST
    page_size: int = 3
    secrets: Sequence[str] = ()
    store: Any = field(default_factory=MemoryCheckpoints)
    sink: ListSink = field(default_factory=ListSink)
    sleeps: list[float] = field(default_factory=list)
    handler: Lines = field(default_factory=Lines)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    clock: Callable[[], float] | None = None
    run_budget: float | None = None
    counter: int = 0

    def context(self) -> RunContext:
        Harness.counter += 1
        logger = logging.getLogger(f"tests.inputs.{self.provider}.{id(self)}.{Harness.counter}")
        logger.handlers[:] = [self.handler]
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        settings = RunSettings(
            self.provider,
            self.input_name,
            policy=self.policy,
            page_size=self.page_size,
            allow_loopback_http=True,
            sleep=self.sleeps.append,
            secrets=self.secrets,
        )
        if self.clock is not None:
            settings.clock = self.clock
        if self.run_budget is not None:
            settings.run_budget = self.run_budget
        return make_context(settings, logger)

    def run(self, streams_of: Callable[[RunContext], Sequence[SweepStream]]) -> dict[str, Any]:
        ctx = self.context()
        summary = run(ctx, streams_of(ctx), self.store, self.sink)
        self.summaries.append(summary)
        return summary

    @property
    def log(self) -> str:
        return "\n".join(self.handler.lines)

    def data(self) -> list[dict[str, Any]]:
        return [dict(e.data) for e in self.sink.events]

    def ids(self) -> list[str]:
        return [e.source_id for e in self.sink.events]

    def summary_lines(self) -> list[dict[str, Any]]:
        marker = f"{SUMMARY_MARKER} "
        return [json.loads(line.split(marker, 1)[1]) for line in self.handler.lines if marker in line]


def without_meta(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "mobile_ingress"}
