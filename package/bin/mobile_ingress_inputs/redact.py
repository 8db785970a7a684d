"""Secrets never reach a log line: a `logging.Filter` that replaces every registered secret (client
secrets, passwords, private keys, every token a provider issues) and anything shaped like a
credential (`Bearer ...`, `Basic ...`, `client_secret=...`, `assertion=...`, a PEM block) with
`***`, in the message and its arguments, before any handler formats it."""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"
# Shapes that are secrets whatever their value, in case one was never registered.
_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic|splunk)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"(?i)\b(client_secret|password|assertion|access_token|refresh_token|private_key|id_token)"
        r"(\"?\s*[=:]\s*\"?)[^\s&\",}]+"
    ),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
)
# A secret shorter than this is not masked as a substring (it would mask ordinary words); such
# secrets are refused by the account validation anyway.
MIN_SECRET_LENGTH = 4


class Redactor(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str | None) -> None:
        """Register a secret; its JSON-escaped form (private keys hold newlines) too."""
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            self._secrets.add(secret)
            escaped = secret.replace("\\", "\\\\").replace("\n", "\\n")
            self._secrets.add(escaped)
            for line in secret.splitlines():
                if len(line) >= 16:  # lines of a PEM body
                    self._secrets.add(line.strip())

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} {MASK}", text)
        text = _PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
        return _PATTERNS[2].sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def install(logger: logging.Logger, redactor: Redactor) -> None:
    """Attach the filter to LOGGER and to each of its handlers (a filter on a logger does not see
    records that child loggers propagate to its handlers)."""
    if redactor not in logger.filters:
        logger.addFilter(redactor)
    for handler in logger.handlers:
        if redactor not in handler.filters:
            handler.addFilter(redactor)
