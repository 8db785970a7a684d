"""One HTTP client for every provider: standard library only (urllib), so it runs on Splunk's own
Python with nothing compiled, behind an optional HTTP proxy.

Transient failures are retried with exponential backoff and jitter: 5xx, timeouts (connect or a
response slower than the timeout), connection resets and refusals. A 429 waits for `Retry-After`
(seconds or an HTTP date, capped) when the server sends it, else backs off the same way. Other
statuses come back to the caller when it expects them (401 for token renewal) or raise
`HttpStatusError`. Sleeping goes through an injected function so tests never wait.
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

from .errors import ConfigError, HttpStatusError, MalformedPage, RetriesExhausted
from .health import RunHealth

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
EXCERPT = 200


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 2.0
    max_delay: float = 120.0
    # A Retry-After longer than this is cut to it: a run must end in bounded time.
    max_retry_after: float = 600.0
    timeout: float = 60.0


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str

    def json(self, context: str) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedPage(f"{context}: not JSON ({exc}); body starts {excerpt(self.body)!r}") from None


def excerpt(body: bytes) -> str:
    return body[:EXCERPT].decode("utf-8", "replace")


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
        cap = min(self.policy.max_delay, self.policy.base_delay * (2 ** (attempt - 1)))
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
            try:
                response = self._send(method, url, headers or {}, body)
            except (socket.timeout, TimeoutError) as exc:
                last = f"timed out after {self.policy.timeout:g} s ({exc or 'timeout'})"
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
                    raise HttpStatusError(status, context, excerpt(response.body))
            if attempt == self.policy.max_attempts:
                break
            delay = wait if wait is not None else self.backoff(attempt)
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

    def _send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Response:
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
        try:
            with self._opener.open(request, timeout=self.policy.timeout) as answer:
                data = answer.read()
                return Response(answer.status, _lower(answer.headers.items()), data, url)
        except urllib.error.HTTPError as error:
            try:
                data = error.read()
            finally:
                error.close()
            return Response(error.code, _lower(error.headers.items() if error.headers else []), data, url)


def verifying_context() -> ssl.SSLContext:
    """Certificates and host names always verified; against certifi's CA bundle where the Python
    has it (Splunk's own Python ships it), else the system's."""
    try:
        import certifi  # type: ignore[import-not-found]

        return ssl.create_default_context(cafile=certifi.where())
    except (ImportError, OSError):
        return ssl.create_default_context()


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


def form(fields: Mapping[str, str]) -> bytes:
    return urllib.parse.urlencode(fields).encode("ascii")
