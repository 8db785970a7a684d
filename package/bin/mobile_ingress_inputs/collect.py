"""One run of one input: build the context, run each of the provider's streams from its
checkpoint, log the health summary. Used by the Splunk adapter (`modinput.py`) and by tests."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

from .checkpoint import CheckpointStore
from .events import EventSink
from .health import RunHealth
from .httpclient import HttpClient, RetryPolicy
from .provider import RunContext, SweepStream
from .redact import Redactor, install
from .runner import run_stream

# Seconds one run of an input may take, all its streams together: past it, no request starts and
# no wait begins; each stream stops at its checkpoint and the next run resumes there.
DEFAULT_RUN_BUDGET = 1800.0


@dataclass
class RunSettings:
    provider: str
    input_name: str
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    page_size: int = 100
    proxy_url: str | None = None
    allow_loopback_http: bool = False
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    secrets: Sequence[str] = ()
    run_budget: float = DEFAULT_RUN_BUDGET


def make_context(
    settings: RunSettings, logger: logging.Logger, redactor: Redactor | None = None
) -> RunContext:
    redactor = redactor or Redactor()
    for secret in settings.secrets:
        redactor.add(secret)
    if settings.proxy_url:
        redactor.add(settings.proxy_url)
    install(logger, redactor)
    health = RunHealth(settings.provider, settings.input_name, settings.clock())
    client = HttpClient(
        settings.policy,
        health,
        logger,
        proxy_url=settings.proxy_url,
        sleep=settings.sleep,
        clock=settings.clock,
        deadline=health.started + settings.run_budget,
        redact=redactor.redact,
    )
    return RunContext(client, redactor, logger, health, settings.page_size, settings.clock)


def run(
    ctx: RunContext,
    streams: Sequence[SweepStream],
    store: CheckpointStore,
    sink: EventSink,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, Any]:
    """Run every stream (one failing does not stop the others) and log the summary line."""
    for stream in streams:
        key = f"{ctx.health.provider}.{ctx.health.input}.{stream.name}"
        try:
            run_stream(stream, store, sink, ctx.health, ctx.logger, key, should_stop)
        except Exception as exc:  # a bug must not silence the other streams or the summary
            counters = ctx.health.stream(stream.name)
            counters.status = "failed"
            counters.error = f"{type(exc).__name__}: {exc}"
            ctx.logger.exception(
                "%s %s %s: unexpected error", ctx.health.provider, ctx.health.input, stream.name
            )
    return ctx.health.log(ctx.logger, ctx.clock())
