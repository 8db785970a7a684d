"""A Google service-account access token without compiled code: the JWT (RFC 7523) is signed
RS256 with the pure-Python `rsa` package, after `pyasn1`/`pyasn1-modules` unwrap the key JSON's
PKCS#8 `private_key` (google-auth would need `cryptography`, whose compiled wheels AppInspect's
cloud checks refuse)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
LIFETIME = 3600
_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", re.S)


@dataclass(frozen=True)
class ServiceAccount:
    client_email: str
    private_key: str
    private_key_id: str
    token_uri: str

    @classmethod
    def from_json(cls, text: str) -> ServiceAccount:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"service account key: not JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("type") != "service_account":
            raise ConfigError(
                'service account key: expected a service account JSON key ("type": "service_account")'
            )
        missing = [
            k for k in ("client_email", "private_key") if not isinstance(data.get(k), str) or not data[k]
        ]
        if missing:
            raise ConfigError(f"service account key: missing {', '.join(missing)}")
        return cls(
            data["client_email"],
            data["private_key"],
            str(data.get("private_key_id") or ""),
            str(data.get("token_uri") or DEFAULT_TOKEN_URI),
        )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def load_private_key(pem: str) -> Any:
    """rsa.PrivateKey from a PEM `PRIVATE KEY` (PKCS#8, what Google issues) or `RSA PRIVATE KEY`."""
    import rsa  # pure Python, vendored in lib/
    from pyasn1.codec.der import decoder
    from pyasn1.error import PyAsn1Error
    from pyasn1_modules import rfc5208

    match = _PEM.search(pem)
    if not match:
        raise ConfigError("service account key: private_key is not a PEM block")
    kind, body = match.group(1), match.group(2)
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
        if kind == "RSA PRIVATE KEY":
            return rsa.PrivateKey.load_pkcs1(der, "DER")
        if kind != "PRIVATE KEY":
            raise ConfigError(f"service account key: unsupported PEM block {kind!r}")
        info, _ = decoder.decode(der, asn1Spec=rfc5208.PrivateKeyInfo())
        return rsa.PrivateKey.load_pkcs1(info["privateKey"].asOctets(), "DER")
    except ConfigError:
        raise
    except (ValueError, PyAsn1Error, IndexError, TypeError) as exc:
        # The message names the failure, never the key material.
        raise ConfigError(f"service account key: private_key cannot be read ({type(exc).__name__})") from None


def assertion(account: ServiceAccount, scopes: str, now: float, audience: str | None = None) -> str:
    """The signed JWT to exchange at the token URI (grant type JWT_BEARER)."""
    import rsa

    header = {"alg": "RS256", "typ": "JWT"}
    if account.private_key_id:
        header["kid"] = account.private_key_id
    issued = int(now)
    claims = {
        "iss": account.client_email,
        "scope": scopes,
        "aud": audience or account.token_uri,
        "iat": issued,
        "exp": issued + LIFETIME,
    }
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = rsa.sign(signing_input.encode("ascii"), load_private_key(account.private_key), "SHA-256")
    return signing_input + "." + _b64url(signature)
