"""Errors of the inputs, each with a message that says what failed and where (never a secret)."""

from __future__ import annotations


class InputError(Exception):
    """Base class: a run of one stream stops with this message logged."""


class ConfigError(InputError):
    """An account or input setting is missing or invalid."""


class HttpStatusError(InputError):
    """A response with a status that retrying cannot fix (4xx other than 401/429, or 5xx after
    the last attempt)."""

    def __init__(self, status: int, context: str, excerpt: str = "") -> None:
        self.status = status
        detail = f": {excerpt}" if excerpt else ""
        super().__init__(f"{context}: HTTP {status}{detail}")


class RetriesExhausted(InputError):
    """Every attempt failed with a transient error (5xx, 429, timeout, reset)."""


class AuthError(InputError):
    """The token could not be obtained, or was refused again right after renewal."""


class MalformedPage(InputError):
    """A page whose body is not the JSON shape the API documents."""


class PagingLoop(InputError):
    """The server sent a next-page cursor that this run has already followed."""


class PagingAnomaly(InputError):
    """A page that repeats records this sweep already read, or more records than the server's own
    total: a server that ignores the page it is asked for would otherwise be read forever."""


class CheckpointDamaged(InputError):
    """A saved checkpoint that cannot be read, or whose contents are not a state of its stream."""


class RunStopped(InputError):
    """The run stops at its checkpoint (a limit was reached); the next run resumes there."""


class BudgetExhausted(RunStopped):
    """The run's time budget is used up (or a wait the server asks for would pass it)."""


class ResponseTooLarge(RunStopped):
    """An answer larger than the size cap: never read whole, never retried."""
