from __future__ import annotations

import pytest

from mobile_ingress.engine.hosts import HostPattern, is_loopback, normalize_host, url_host, url_last_segment


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CDN.Example.COM", "cdn.example.com"),
        ("cdn.example.com.", "cdn.example.com"),
        ("cdn.example.com:443", "cdn.example.com"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("::ffff:10.1.2.3", "10.1.2.3"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("", None),
        ("a..b", None),
        ("has space.com", None),
    ],
)
def test_hosts_normalize_to_lowercase_idna_without_port_or_dot(raw: str, expected: object) -> None:
    assert normalize_host(raw) == expected


def test_url_host_and_last_segment_ignore_query_and_credentials() -> None:
    assert url_host("https://user:pw@Evil.Example:8443/a/b.dex?x=1") == "evil.example"
    assert url_last_segment("https://evil.example/a/b.dex?x=1#f") == "b.dex"
    assert url_last_segment("https://evil.example/") is None
    assert url_last_segment("https://evil.example/a/") is None
    assert url_last_segment("https://evil.example/a/my%20lib.so") == "my lib.so"


@pytest.mark.parametrize(
    ("pattern", "host", "matches"),
    [
        ("*.example.com", "example.com", True),
        ("*.example.com", "a.b.example.com", True),
        ("*.example.com", "evil-example.com", False),
        ("*.example.com", "example.com.evil.net", False),
        ("example.com", "example.com", True),
        ("example.com", "www.example.com", False),
        ("10.0.0.0/8", "10.20.30.40", True),
        ("10.0.0.0/8", "11.0.0.1", False),
        ("10.0.0.0/8", "ten.example", False),
        ("2001:db8::/32", "2001:db8:1::5", True),
        ("2001:db8::/32", "2001:db9::5", False),
        ("::ffff:10.0.0.0/104", "10.9.9.9", True),
        ("192.0.2.7", "192.0.2.7", True),
        ("192.0.2.7", "192.0.2.8", False),
        ("*", "anything.example", True),
    ],
)
def test_destination_patterns_match_at_label_boundaries_and_by_kind(
    pattern: str, host: str, matches: bool
) -> None:
    normalized = normalize_host(host)
    assert normalized is not None
    assert HostPattern.parse(pattern).matches(normalized) is matches


def test_a_host_name_row_never_matches_an_ip_and_an_ip_row_never_a_name() -> None:
    assert not HostPattern.parse("*.example.com").matches("93.184.216.34")
    assert not HostPattern.parse("93.184.216.34").matches("example.com")


def test_a_cidr_that_does_not_parse_is_refused_with_its_text() -> None:
    with pytest.raises(ValueError, match=r"10\.0\.0\.0/33"):
        HostPattern.parse("10.0.0.0/33")


def test_loopback_addresses_are_recognized_and_names_are_not() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("127.8.9.10")
    assert not is_loopback("localhost.example") and not is_loopback("10.0.0.1")
