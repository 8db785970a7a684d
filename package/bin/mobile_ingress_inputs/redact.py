"""Secrets never reach a log line: a `logging.Filter` that replaces every registered secret (client
secrets, passwords, private keys, every token a provider issues) and anything shaped like a
credential (`Bearer ...`, `Basic ...`, `client_secret=...`, `assertion=...`, a PEM block) with
`***`, in the message and its arguments, before any handler formats it.

A server may echo a refused secret in any encoding: as sent in a form (percent-encoded, `+` for a
space), inside a JSON string (`\\/` for `/`, `\\uXXXX`), under a key no pattern names. Each secret
is registered in all these encodings, and an HTTP answer is redacted whole before an excerpt of it
is cut (`redact` first, then cut: a cut secret no longer matches itself)."""

from __future__ import annotations

import json
import logging
import re
import threading
import urllib.parse

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
        """Register a secret in every encoding a server may echo it in (`encodings`), and each
        line of a multi-line secret (a PEM body's lines)."""
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            return
        forms = set(encodings(secret))
        for line in secret.splitlines():
            if len(line.strip()) >= 16:
                forms.update(encodings(line.strip()))
        with self._lock:
            self._secrets.update(f for f in forms if len(f) >= MIN_SECRET_LENGTH)

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


def encodings(secret: str) -> list[str]:
    """SECRET as written raw, in a JSON string (with and without `\\/` for `/`, non-ASCII kept or
    as `\\uXXXX`, a backslash doubled) and percent-encoded (as a form writes it: `+` for a space;
    as a URL path writes it; with upper- and lower-case hex digits)."""
    forms = [secret]
    for ascii_only in (True, False):
        inner = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
        forms += [inner, inner.replace("/", "\\/")]
    for quoted in (
        urllib.parse.quote_plus(secret, safe=""),
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote(secret, safe="/"),
    ):
        forms += [quoted, re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quoted)]
    return list(dict.fromkeys(forms))


def install(logger: logging.Logger, redactor: Redactor) -> None:
    """Attach the filter to LOGGER and to each of its handlers (a filter on a logger does not see
    records that child loggers propagate to its handlers)."""
    if redactor not in logger.filters:
        logger.addFilter(redactor)
    for handler in logger.handlers:
        if redactor not in handler.filters:
            handler.addFilter(redactor)
