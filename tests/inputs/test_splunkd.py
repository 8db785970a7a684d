"""The splunkd side against a stand-in on 127.0.0.1: accounts with their encrypted fields from
the password store (solnlib's chunked form), proxy settings, KV store checkpoints; then one input
stanza end to end through `modinput.run_stanza` with a stand-in EventWriter."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from mobile_ingress_inputs import modinput
from mobile_ingress_inputs.errors import ConfigError
from mobile_ingress_inputs.splunkd import KVStoreCheckpoints, Splunkd, SplunkdError

from . import fake_google, fake_jamf
from .fake_splunkd import APP, SESSION_KEY, FakeSplunkd
from .fakeserver import serving
from .support import Lines, without_meta


@pytest.fixture
def splunkd() -> Iterator[FakeSplunkd]:
    fake = FakeSplunkd()
    with serving(fake.server):
        yield fake


def client(fake: FakeSplunkd, key: str = SESSION_KEY) -> Splunkd:
    return Splunkd(fake.server.url, key, APP)


def test_an_account_comes_with_its_encrypted_fields(splunkd: FakeSplunkd) -> None:
    splunkd.store_account(
        "ta_mobile_ingress_jamf_account",
        "prod",
        {"base_url": "https://acme.jamfcloud.com", "client_id": "c1"},
        {"client_secret": "s" * 600},
    )
    account = client(splunkd).account("ta_mobile_ingress_jamf_account", "prod")
    assert account == {
        "base_url": "https://acme.jamfcloud.com",
        "client_id": "c1",
        "client_secret": "s" * 600,
    }


def test_a_service_account_key_split_in_chunks_is_joined_whole(splunkd: FakeSplunkd) -> None:
    key = fake_google.service_account_json("https://oauth2.googleapis.com/token")
    splunkd.store_account(
        "ta_mobile_ingress_amapi_account",
        "android",
        {"enterprise": "enterprises/LC1"},
        {"service_account_key": key},
    )
    assert len([p for p in splunkd.passwords if p["username"].startswith("android")]) > 5
    account = client(splunkd).account("ta_mobile_ingress_amapi_account", "android")
    assert account["service_account_key"] == key


def test_a_missing_account_or_lost_secret_is_a_config_error(splunkd: FakeSplunkd) -> None:
    with pytest.raises(ConfigError, match="account 'nope' does not exist"):
        client(splunkd).account("ta_mobile_ingress_jamf_account", "nope")
    splunkd.confs["ta_mobile_ingress_jamf_account"] = {
        "x": {"base_url": "https://a.b", "client_secret": "********"}
    }
    with pytest.raises(ConfigError, match="client_secret is missing from the password store"):
        client(splunkd).account("ta_mobile_ingress_jamf_account", "x")


def test_a_wrong_session_key_is_a_splunkd_error(splunkd: FakeSplunkd) -> None:
    with pytest.raises(SplunkdError, match="HTTP 401"):
        client(splunkd, "wrong").stanza("ta_mobile_ingress_settings", "proxy")


def test_kv_store_checkpoints_create_the_collection_then_round_trip(splunkd: FakeSplunkd) -> None:
    store = KVStoreCheckpoints(client(splunkd))
    assert store.load("jamf.prod.mobiledevices") is None
    assert "ta_mobile_ingress_checkpoints" in splunkd.collections
    store.save("jamf.prod.mobiledevices", {"cursor": {"page": 2}, "watermark": 12.5})
    store.save("jamf.prod.mobiledevices", {"cursor": None, "watermark": 20.0})
    assert KVStoreCheckpoints(client(splunkd)).load("jamf.prod.mobiledevices") == {
        "cursor": None,
        "watermark": 20.0,
    }
    assert list(splunkd.collections["ta_mobile_ingress_checkpoints"]) == ["jamf.prod.mobiledevices"]


def test_a_kv_store_record_that_is_not_a_state_is_an_error(splunkd: FakeSplunkd) -> None:
    from mobile_ingress_inputs.errors import InputError

    splunkd.collections["ta_mobile_ingress_checkpoints"] = {"k": {"_key": "k", "state": "{broken"}}
    with pytest.raises(InputError, match="not a saved state"):
        KVStoreCheckpoints(client(splunkd)).load("k")


def test_an_enabled_http_proxy_with_credentials_becomes_the_proxy_url(splunkd: FakeSplunkd) -> None:
    splunkd.store_account(
        "ta_mobile_ingress_settings",
        "proxy",
        {
            "proxy_enabled": "1",
            "proxy_type": "http",
            "proxy_url": "proxy.corp",
            "proxy_port": "3128",
            "proxy_username": "svc",
        },
        {"proxy_password": "p@ss:word"},
    )
    assert modinput.proxy_url(client(splunkd)) == "http://svc:p%40ss%3Aword@proxy.corp:3128"


def test_a_disabled_or_socks_proxy(splunkd: FakeSplunkd) -> None:
    assert modinput.proxy_url(client(splunkd)) is None
    splunkd.confs["ta_mobile_ingress_settings"] = {
        "proxy": {"proxy_enabled": "1", "proxy_type": "socks5", "proxy_url": "p", "proxy_port": "1080"}
    }
    with pytest.raises(ConfigError, match="socks5"):
        modinput.proxy_url(client(splunkd))


class Writer:
    """splunklib's EventWriter, recorded."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def write_event(self, event: Any) -> None:
        self.events.append(event)


def test_a_jamf_stanza_runs_end_to_end_through_splunkd(
    splunkd: FakeSplunkd, monkeypatch: pytest.MonkeyPatch
) -> None:
    jamf_fake = fake_jamf.FakeJamf([fake_jamf.device(n) for n in range(1, 5)])
    monkeypatch.setenv(modinput.LOOPBACK_ENV, "1")
    with serving(jamf_fake.server):
        splunkd.store_account(
            "ta_mobile_ingress_jamf_account",
            "prod",
            {"base_url": jamf_fake.server.url, "client_id": fake_jamf.CLIENT_ID},
            {"client_secret": fake_jamf.CLIENT_SECRET},
        )
        lines = Lines()
        logger = logging.getLogger("tests.inputs.modinput.jamf")
        logger.setLevel(logging.INFO)
        logger.handlers[:] = [lines]
        logger.propagate = False
        writer = Writer()
        item = {"account": "prod", "index": "mdm", "interval": "3600"}
        summary = modinput.run_stanza(
            "jamf", "mobile_ingress_jamf://prod", item, client(splunkd), writer, logger
        )
    assert summary is not None and summary["status"] == "ok", lines.lines
    assert [without_meta(json.loads(e.data)) for e in writer.events] == jamf_fake.devices
    first = writer.events[0]
    assert (first.sourceType, first.index, first.stanza, first.time) == (
        "mdm:jamf:mobiledevice",
        "mdm",
        "mobile_ingress_jamf://prod",
        "1795168800.000",
    )
    state = json.loads(
        splunkd.collections["ta_mobile_ingress_checkpoints"]["jamf.prod.mobiledevices"]["state"]
    )
    assert state["watermark"] == 1795168800.0 and "cursor" not in state
    assert any("run_summary" in line for line in lines.lines)
    assert not any(fake_jamf.CLIENT_SECRET in line for line in lines.lines)


def test_http_base_urls_are_refused_without_the_loopback_override(
    splunkd: FakeSplunkd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(modinput.LOOPBACK_ENV, raising=False)
    splunkd.store_account(
        "ta_mobile_ingress_jamf_account",
        "prod",
        {"base_url": "http://127.0.0.1:9", "client_id": "c"},
        {"client_secret": "secret-value"},
    )
    lines = Lines()
    logger = logging.getLogger("tests.inputs.modinput.refused")
    logger.handlers[:] = [lines]
    logger.propagate = False
    writer = Writer()
    assert (
        modinput.run_stanza(
            "jamf", "mobile_ingress_jamf://prod", {"account": "prod"}, client(splunkd), writer, logger
        )
        is None
    )
    assert writer.events == [] and "must start with https://" in "\n".join(lines.lines)
