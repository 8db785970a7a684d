"""Bearer tokens: fetched on first use, reused until shortly before they expire, renewed once when
a request is refused with 401 (a token that expired or was revoked in the middle of paging), and
registered with the redactor the moment they arrive."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable

from .errors import AuthError
from .httpclient import HttpClient, Response
from .redact import Redactor

# Renew this many seconds before the stated expiry (clock skew, a long page).
EARLY_RENEWAL = 60.0


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float


class BearerAuth:
    """FETCH returns a fresh Token; BearerAuth caches it and renews it when needed."""

    def __init__(
        self,
        fetch: Callable[[], Token],
        redactor: Redactor,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch
        self._redactor = redactor
        self._clock = clock
        self._token: Token | None = None

    def token(self) -> str:
        if self._token is None or self._clock() >= self._token.expires_at - EARLY_RENEWAL:
            token = self._fetch()
            self._redactor.add(token.value)
            self._token = token
        return self._token.value

    def invalidate(self) -> None:
        self._token = None

    def get(
        self,
        client: HttpClient,
        url: str,
        *,
        context: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """A request with the bearer token; on 401 the token is renewed once and the request
        sent again (the same page: paging resumes where it was)."""
        for attempt in (1, 2):
            all_headers = {"Accept": "application/json", **(headers or {})}
            all_headers["Authorization"] = f"Bearer {self.token()}"
            response = client.request(
                method, url, context=context, headers=all_headers, body=body, expect={401}
            )
            if response.status != 401:
                return response
            if attempt == 1:
                client.health.token_renewals += 1
                client.logger.info("%s: token refused (HTTP 401); renewing it once", context)
                self.invalidate()
        raise AuthError(
            f"{context}: HTTP 401 again with a freshly issued token (check the account's permissions)"
        )


def token_from_answer(
    response: Response, context: str, clock: Callable[[], float], *, value_key: str = "access_token"
) -> Token:
    """An OAuth2 token answer {access_token, expires_in} (RFC 6749 section 5.1)."""
    data = response.json(context)
    if not isinstance(data, dict) or not isinstance(data.get(value_key), str) or not data[value_key]:
        raise AuthError(f"{context}: the token answer has no {value_key}")
    try:
        lifetime = float(data.get("expires_in", 3600))
    except (TypeError, ValueError):
        lifetime = 3600.0
    return Token(data[value_key], clock() + lifetime)
