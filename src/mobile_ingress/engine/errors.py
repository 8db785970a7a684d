"""Error types: each says what was wrong and where."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class InvalidEvent(EngineError):
    """A record that cannot become a normalized event: it is skipped and counted by `reason`."""

    def __init__(self, reason: str, detail: str = "", message: str | None = None) -> None:
        self.reason = reason  # the key the summary counts by
        self.detail = detail
        # what the record's message says; by default the reason and, in parentheses, the detail
        self.message = message if message is not None else reason + (f" ({detail})" if detail else "")
        super().__init__(f"{reason}: {detail}" if detail else reason)


class SettingError(EngineError):
    """A scalar mutable element that is unknown or has a bad value (a usage error)."""


class LookupFileError(EngineError):
    """A lookup that cannot be read at all (missing columns, not a CSV)."""


class OrderViolation(EngineError):
    """An event arrived out of the time order the correlator was promised."""


class CompactPathError(EngineError):
    """A record the compact reading took as clean did not normalize silently: a fault in
    engine/compact.py (its checks must follow `normalize_record`), never a fault of the input."""
