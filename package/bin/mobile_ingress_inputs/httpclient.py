"""One HTTP client for every provider: standard library only (urllib), so it runs on Splunk's own
Python with nothing compiled, behind an optional HTTP proxy.

Transient failures are retried with exponential backoff and jitter: 5xx, timeouts (connect, a
silent server, or an answer whose body takes longer than the timeout to arrive, however steadily
it trickles), connection resets and refusals. A 429 waits for `Retry-After` (seconds or an HTTP
date, capped) when the server sends it, else backs off the same way. Other statuses come back to
the caller when it expects them (401 for token renewal) or raise `HttpStatusError`.

Two limits bound a run whatever a server does: an answer larger than `max_response_bytes` is
refused before it is read whole (`ResponseTooLarge`), and no attempt starts, and no wait begins,
that the run's deadline would not allow (`BudgetExhausted`). Both stop the run at its checkpoint.
An excerpt of an answer in a message is cut only after the whole answer was redacted. Sleeping
goes through an injected function so tests never wait.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import random
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import (
    BudgetExhausted,
    ConfigError,
    HttpStatusError,
    MalformedPage,
    ResponseTooLarge,
    RetriesExhausted,
)
from .health import RunHealth

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
EXCERPT = 200
# The largest answer read: a page of 100 Jamf devices with their apps is a few MB.
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
READ_CHUNK = 65536


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 2.0
    max_delay: float = 120.0
    # A Retry-After longer than this is cut to it: a run must end in bounded time.
    max_retry_after: float = 600.0
    # Per attempt: the connection, each read, and the whole body (a trickled answer).
    timeout: float = 60.0
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES


def _unchanged(text: str) -> str:
    return text


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    # The client's redaction, applied to the whole body before an excerpt of it is cut.
    redact: Callable[[str], str] = _unchanged

    def json(self, context: str) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedPage(
                f"{context}: not JSON ({exc}); body starts {excerpt(self.body, self.redact)!r}"
            ) from None


def excerpt(body: bytes, redact: Callable[[str], str] = _unchanged) -> str:
    """The start of BODY, cut after redaction (a secret cut in half would not be recognized)."""
    return redact(body.decode("utf-8", "replace"))[:EXCERPT]


def validate_base_url(url: str, *, allow_loopback_http: bool = False, what: str = "base URL") -> str:
    """An https URL with a host (no credentials, query or fragment), without a trailing slash.
    ALLOW_LOOPBACK_HTTP (tests and a local development Splunk only, see docs/inputs.md) also
    accepts http on 127.0.0.1, localhost and ::1."""
    parts = urllib.parse.urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme == "http" and allow_loopback_http and host in LOOPBACK_HOSTS:
        pass
    elif parts.scheme != "https":
        raise ConfigError(f"{what} {url!r}: must start with https://")
    if not host:
        raise ConfigError(f"{what} {url!r}: no host name")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(f"{what} {url!r}: credentials, query and fragment are not allowed")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would carry the Authorization header to wherever the server points; none of the
    # APIs redirects their JSON endpoints, so a 3xx is an answer, not a hop.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class HttpClient:
    policy: RetryPolicy
    health: RunHealth
    logger: logging.Logger
    proxy_url: str | None = None
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random
    clock: Callable[[], float] = time.time
    ssl_context: ssl.SSLContext | None = None
    # Epoch seconds (by CLOCK) after which no attempt starts and no wait begins; None: no limit.
    deadline: float | None = None
    redact: Callable[[str], str] = _unchanged
    _opener: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # An explicit (possibly empty) proxy map: environment proxies never apply by surprise.
        proxies = {"http": self.proxy_url, "https": self.proxy_url} if self.proxy_url else {}
        handlers: list[Any] = [urllib.request.ProxyHandler(proxies), _NoRedirect()]
        handlers.append(urllib.request.HTTPSHandler(context=self.ssl_context or verifying_context()))
        self._opener = urllib.request.build_opener(*handlers)

    def backoff(self, attempt: int) -> float:
        """Delay before attempt ATTEMPT+1: base * 2^(attempt-1), capped, with "equal jitter"
        (half fixed, half random) so that many inputs failing together spread out."""
        cap = min(self.policy.max_delay, self.policy.base_delay * (2.0 ** (attempt - 1)))
        return cap / 2 + self.random() * cap / 2

    def request(
        self,
        method: str,
        url: str,
        *,
        context: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        expect: Iterable[int] = (),
    ) -> Response:
        """The response of the first attempt that is not transient. Statuses in EXPECT are
        returned like a 2xx; any other non-2xx raises HttpStatusError."""
        expected = set(expect)
        last = ""
        for attempt in range(1, self.policy.max_attempts + 1):
            wait: float | None = None
            timeout = min(self.policy.timeout, self._left(context))
            try:
                response = self._send(method, url, headers or {}, body, timeout)
            except (socket.timeout, TimeoutError) as exc:
                last = f"timed out after {timeout:g} s ({exc or 'timeout'})"
            except (ConnectionError, http.client.HTTPException, urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, ssl.SSLError):
                    raise HttpStatusError(0, f"{context}: TLS failure ({reason})") from None
                last = f"connection failed ({type(reason).__name__}: {reason})"
            else:
                status = response.status
                if 200 <= status < 300 or status in expected:
                    return response
                if status == 429:
                    wait = _retry_after(response.headers.get("retry-after"), self.clock())
                    if wait is not None:
                        wait = min(wait, self.policy.max_retry_after)
                    last = "HTTP 429 (throttled)"
                elif status >= 500:
                    last = f"HTTP {status}"
                else:
                    raise HttpStatusError(status, context, excerpt(response.body, self.redact))
            if attempt == self.policy.max_attempts:
                break
            delay = wait if wait is not None else self.backoff(attempt)
            if self.deadline is not None and self.clock() + delay >= self.deadline:
                raise BudgetExhausted(
                    f"{context}: {last}; waiting {delay:.0f} s would pass the run's time budget "
                    f"({max(0.0, self.deadline - self.clock()):.0f} s left): stopping at the checkpoint"
                )
            self.health.retries += 1
            self.logger.warning(
                "%s: %s; retry %d of %d in %.3f s",
                context,
                last,
                attempt,
                self.policy.max_attempts - 1,
                delay,
            )
            self.sleep(delay)
        raise RetriesExhausted(f"{context}: gave up after {self.policy.max_attempts} attempts: {last}")

    def _left(self, context: str) -> float:
        """Seconds left in the run's budget (raises when none are)."""
        if self.deadline is None:
            return float("inf")
        left = self.deadline - self.clock()
        if left <= 0:
            raise BudgetExhausted(f"{context}: the run's time budget is used up: stopping at the checkpoint")
        return left

    def _send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> Response:
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
        started = time.monotonic()
        try:
            with self._opener.open(request, timeout=timeout) as answer:
                data = self._read(answer, url, started, timeout)
                return Response(answer.status, _lower(answer.headers.items()), data, url, self.redact)
        except urllib.error.HTTPError as error:
            try:
                data = self._read(error, url, started, timeout)
            finally:
                error.close()
            headers_of = _lower(error.headers.items() if error.headers else [])
            return Response(error.code, headers_of, data, url, self.redact)

    def _read(self, answer: Any, url: str, started: float, timeout: float) -> bytes:
        """The body, in chunks: refused past the size cap (by its Content-Length before reading,
        else as it arrives), and a timeout once the whole body has taken longer than TIMEOUT (a
        server trickling a few bytes at a time never lets one read time out)."""
        cap = self.policy.max_response_bytes
        where = urllib.parse.urlsplit(url)
        name = f"{where.netloc}{where.path}"
        length = (answer.headers.get("Content-Length") or "").strip() if answer.headers else ""
        if length.isdigit() and int(length) > cap:
            raise ResponseTooLarge(
                f"{name}: the answer is {int(length)} bytes, more than the {cap} byte cap: not read; "
                "stopping at the checkpoint"
            )
        read = getattr(answer, "read1", None) or answer.read
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = read(READ_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > cap:
                raise ResponseTooLarge(
                    f"{name}: the answer passed the {cap} byte cap: not read further; "
                    "stopping at the checkpoint"
                )
            chunks.append(chunk)
            if time.monotonic() - started > timeout:
                raise socket.timeout(
                    f"the answer took longer than {timeout:g} s to arrive ({size} bytes so far)"
                )


def verifying_context() -> ssl.SSLContext:
    """Certificates and host names always verified; against certifi's CA bundle where the Python
    has it (Splunk's own Python ships it), else the system's."""
    try:
        import certifi  # type: ignore[import-not-found,unused-ignore]  # not everywhere

        return ssl.create_default_context(cafile=certifi.where())
    except (ImportError, OSError):
        return ssl.create_default_context()


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


def form(fields: Mapping[str, str]) -> bytes:
    return urllib.parse.urlencode(fields).encode("ascii")
