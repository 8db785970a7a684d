"""Host normalization and destination patterns (contract section 2, "Hosts").

Hosts compare lowercase, without a trailing dot or a port, IDNA encoded. A pattern is an exact host,
`*.suffix` (the suffix itself and its subdomains, at label boundaries), an IP, or a CIDR. A host-name
pattern never matches an IP and the reverse; an IPv4-mapped IPv6 address matches as IPv4.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Union
from urllib.parse import unquote, urlsplit

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

# A label of a host name once IDNA encoded: letters, digits, `-` and `_` (seen in real service
# names), 1 to 63 of them (RFC 1035 section 2.3.4); a name is at most 253 characters. Anything else
# (`*`, quotes, commas, spaces) is no host name: a pattern character in an event's `dest` must never
# reach the matching as data.
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
MAX_HOST_LENGTH = 253


@lru_cache(maxsize=1 << 16)  # hosts repeat: parsing dominates otherwise
def parse_ip(text: str) -> IPAddress | None:
    """The address in `text` (IPv4-mapped IPv6 unwrapped to IPv4), or None."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _strip_port(text: str) -> str:
    if text.startswith("["):
        end = text.find("]")
        return text[1:end] if end > 0 else text
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text


def normalize_host(value: object) -> str | None:
    """Canonical form of a host name or IP; None when it is empty or cannot be IDNA encoded."""
    return _normalize_host(value) if isinstance(value, str) else None


@lru_cache(maxsize=1 << 16)
def _normalize_host(value: str) -> str | None:
    text = _strip_port(value.strip()).strip().rstrip(".")
    if not text:
        return None
    address = parse_ip(text)
    if address is not None:
        return str(address)
    try:
        labels = [
            label.lower() if label.isascii() else label.encode("idna").decode("ascii").lower()
            for label in text.split(".")
        ]
    except UnicodeError:
        return None
    if any(_LABEL.fullmatch(label) is None for label in labels):
        return None
    host = ".".join(labels)
    return host if len(host) <= MAX_HOST_LENGTH else None


def url_host(url: object) -> str | None:
    """The normalized host of a URL, or None when it has none."""
    if not isinstance(url, str) or not url.strip():
        return None
    text = url.strip()
    if "://" not in text:
        text = "//" + text
    try:
        netloc = urlsplit(text).netloc
    except ValueError:
        return None
    netloc = netloc.rsplit("@", 1)[-1]
    return normalize_host(netloc)


def url_last_segment(url: object) -> str | None:
    """The last path segment of a URL (no query or fragment), or None."""
    if not isinstance(url, str) or not url.strip():
        return None
    text = url.strip()
    try:
        path = urlsplit(text if "://" in text else "//" + text).path
    except ValueError:
        return None
    if path.endswith("/"):
        return None  # a folder names no file
    segment = unquote(path.rsplit("/", 1)[-1])
    return segment or None


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    address = parse_ip(host)
    return address is not None and address.is_loopback


@dataclass(frozen=True)
class HostPattern:
    """One destination cell of a lookup."""

    text: str
    kind: str  # "any", "host", "suffix", "ip", "cidr"
    host: str = ""
    network: IPNetwork | None = None

    @property
    def is_literal(self) -> bool:
        """An exact host or an exact IP: what a learned baseline may hold."""
        return self.kind in ("host", "ip")

    @classmethod
    def parse(cls, cell: str) -> HostPattern:
        text = cell.strip()
        if text == "*":
            return cls(text, "any")
        if "/" in text:
            try:
                network = ipaddress.ip_network(text, strict=False)
            except ValueError as exc:
                raise ValueError(f"CIDR {text!r} does not parse") from exc
            if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
                mapped = network.network_address.ipv4_mapped
                if mapped is not None:
                    network = ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}")
            return cls(text, "cidr", network=network)
        if text.startswith("*."):
            suffix = normalize_host(text[2:])
            if suffix is None or parse_ip(suffix) is not None:
                raise ValueError(f"host suffix {text!r} is not a host name")
            return cls(text, "suffix", host=suffix)
        host = normalize_host(text)
        if host is None:
            raise ValueError(f"destination {text!r} is not a host name, IP or CIDR")
        return cls(text, "ip" if parse_ip(host) is not None else "host", host=host)

    def matches(self, host: str) -> bool:
        """`host` is already normalized."""
        if self.kind == "any":
            return True
        address = parse_ip(host)
        if address is not None:
            if self.kind == "ip":
                return host == self.host
            if self.kind == "cidr":
                assert self.network is not None
                return address.version == self.network.version and address in self.network
            return False
        if self.kind == "host":
            return host == self.host
        if self.kind == "suffix":
            return host == self.host or host.endswith("." + self.host)
        return False
