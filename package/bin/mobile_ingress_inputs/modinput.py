"""The Splunk side of the inputs: what the scripts UCC generates (`bin/mobile_ingress_<p>.py`)
call through their helper modules. It reads the input stanza, the account (password store), the
proxy and log level (UCC settings), then runs the provider's streams with KV store checkpoints
and splunklib's EventWriter. Everything else lives in the plain modules beside it.

Test override: with the environment variable TA_MOBILE_INGRESS_ALLOW_LOOPBACK_HTTP=1 in splunkd's
environment, base URLs may be plain http on 127.0.0.1/localhost/::1 (a development Splunk with
local stand-ins); never set it anywhere else. Intune and Android Management API hosts can then be
pointed at a stand-in with TA_MOBILE_INGRESS_TEST_ENDPOINT=http://127.0.0.1:PORT."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import urllib.parse
from collections.abc import Sequence
from typing import Any

from . import amapi, intune, jamf
from .collect import RunSettings, make_context, run
from .errors import ConfigError, InputError
from .events import CollectedEvent
from .provider import RunContext, SweepStream
from .splunkd import KVStoreCheckpoints, Splunkd

APP = "TA-mobile-ingress"
CONF_PREFIX = "ta_mobile_ingress"
LOOPBACK_ENV = "TA_MOBILE_INGRESS_ALLOW_LOOPBACK_HTTP"
ENDPOINT_ENV = "TA_MOBILE_INGRESS_TEST_ENDPOINT"
LOG_FORMAT = "%(asctime)s %(levelname)s pid=%(process)d input=%(input)s | %(message)s"
PROVIDERS = ("jamf", "intune", "amapi")


class SplunkEventSink:
    """splunklib's EventWriter: each event written (and flushed to splunkd) before `write` returns."""

    def __init__(self, writer: Any, index: str | None, stanza: str) -> None:
        self.writer = writer
        self.index = index
        self.stanza = stanza

    def write(self, events: Sequence[CollectedEvent]) -> None:
        from splunklib import modularinput as smi

        for event in events:
            self.writer.write_event(
                smi.Event(
                    data=event.text(),
                    time=f"{event.time:.3f}",
                    index=self.index or None,
                    sourcetype=event.sourcetype,
                    stanza=self.stanza,
                    unbroken=True,
                    done=True,
                )
            )


def allow_loopback() -> bool:
    return os.environ.get(LOOPBACK_ENV) == "1"


def logger_for(provider: str, input_name: str, level: str) -> logging.Logger:
    """The add-on's own log, $SPLUNK_HOME/var/log/splunk/ta_mobile_ingress_<provider>.log (splunkd
    indexes it into _internal), or stderr (splunkd.log) when SPLUNK_HOME is unknown."""
    logger = logging.getLogger(f"{CONF_PREFIX}.{provider}.{input_name}")
    logger.propagate = False
    logger.setLevel(getattr(logging, level.upper(), logging.INFO))
    if not logger.handlers:
        home = os.environ.get("SPLUNK_HOME")
        handler: logging.Handler
        if home:
            folder = os.path.join(home, "var", "log", "splunk")
            os.makedirs(folder, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                os.path.join(folder, f"{CONF_PREFIX}_{provider}.log"), maxBytes=25_000_000, backupCount=5
            )
        else:
            handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(_InputName(input_name))
        logger.addHandler(handler)
    return logger


class _InputName(logging.Filter):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name_ = name

    def filter(self, record: logging.LogRecord) -> bool:
        record.input = self.name_
        return True


def proxy_url(splunkd: Splunkd) -> str | None:
    stanza = splunkd.stanza(f"{CONF_PREFIX}_settings", "proxy") or {}
    if str(stanza.get("proxy_enabled", "0")).lower() not in ("1", "true", "yes"):
        return None
    kind = stanza.get("proxy_type") or "http"
    if kind != "http":
        raise ConfigError(f"proxy type {kind!r} is not supported by the MDM inputs; use an HTTP proxy")
    host, port = stanza.get("proxy_url"), stanza.get("proxy_port")
    if not host or not port:
        raise ConfigError("proxy: host and port are required when the proxy is enabled")
    secrets = splunkd.credentials(f"{CONF_PREFIX}_settings", "proxy")
    user = stanza.get("proxy_username") or ""
    password = secrets.get("proxy_password") or ""
    credentials = ""
    if user:
        credentials = (
            urllib.parse.quote(user, safe="")
            + (":" + urllib.parse.quote(password, safe="") if password else "")
            + "@"
        )
    return f"http://{credentials}{host}:{port}"


def log_level(splunkd: Splunkd) -> str:
    stanza = splunkd.stanza(f"{CONF_PREFIX}_settings", "logging") or {}
    return str(stanza.get("loglevel") or "INFO")


def _names(value: Any, known: Sequence[str]) -> tuple[str, ...]:
    if not value:
        return tuple(known)
    parts = [p.strip() for p in str(value).replace("|", ",").split(",") if p.strip()]
    return tuple(parts)


def build_streams(
    provider: str, ctx: RunContext, account: dict[str, Any], item: dict[str, Any]
) -> tuple[list[SweepStream], list[str]]:
    """The provider's streams for an input stanza ITEM and its ACCOUNT (decrypted), and the
    secrets to redact."""
    loopback = allow_loopback()
    endpoint = os.environ.get(ENDPOINT_ENV, "") if loopback else ""
    if provider == "jamf":
        acct = jamf.JamfAccount(
            account.get("base_url", ""),
            account.get("client_id", ""),
            account.get("client_secret", ""),
            account.get("username", ""),
            account.get("password", ""),
        ).validated(loopback)
        return jamf.streams(ctx, acct), [s for s in acct.secrets if s]
    if provider == "intune":
        graph = intune.IntuneAccount(
            account.get("tenant_id", ""),
            account.get("client_id", ""),
            account.get("client_secret", ""),
            account.get("cloud") or "global",
            login_url=endpoint,
            graph_url=endpoint,
        ).validated(loopback)
        names = _names(item.get("collections"), tuple(intune.STREAMS))
        return intune.streams(ctx, graph, names), [graph.client_secret]
    if provider == "amapi":
        key_json = account.get("service_account_key", "")
        enterprise, key = amapi.AmapiAccount(
            account.get("enterprise", ""),
            key_json,
            account.get("subscription", ""),
            api_url=endpoint or amapi.API_URL,
            pubsub_url=endpoint or amapi.PUBSUB_URL,
        ).validated(loopback)
        names = _names(item.get("collections"), amapi.STREAMS)
        return amapi.streams(ctx, enterprise, key, names), [key_json, key.private_key]
    raise ConfigError(f"unknown provider {provider!r}")


def run_stanza(
    provider: str,
    stanza: str,
    item: dict[str, Any],
    splunkd: Splunkd,
    writer: Any,
    logger: logging.Logger | None = None,
) -> dict[str, Any] | None:
    """One input stanza, start to end. Configuration errors are logged, never raised: splunkd
    starts the input again at its next interval."""
    input_name = stanza.split("://", 1)[-1]
    try:
        level = log_level(splunkd)
    except InputError:
        level = "INFO"
    logger = logger or logger_for(provider, input_name, level)
    try:
        account = splunkd.account(f"{CONF_PREFIX}_{provider}_account", item.get("account", ""))
        proxy = proxy_url(splunkd)
    except InputError as exc:
        logger.error("%s %s: cannot read the configuration: %s", provider, input_name, exc)
        return None
    settings = RunSettings(provider, input_name, proxy_url=proxy, allow_loopback_http=allow_loopback())
    ctx = make_context(settings, logger)
    try:
        streams, secrets = build_streams(provider, ctx, account, item)
    except InputError as exc:
        logger.error("%s %s: %s", provider, input_name, exc)
        return None
    for secret in secrets:
        ctx.redactor.add(secret)
    sink = SplunkEventSink(writer, item.get("index"), stanza)
    return run(ctx, streams, KVStoreCheckpoints(splunkd), sink)


def stream_events(provider: str, inputs: Any, writer: Any) -> None:
    """splunklib's stream_events for PROVIDER: every stanza of the input definition in turn."""
    metadata = inputs.metadata
    splunkd = Splunkd(metadata["server_uri"], metadata["session_key"], APP)
    for stanza, item in inputs.inputs.items():
        run_stanza(provider, stanza, dict(item), splunkd, writer)


def validate_input(provider: str, definition: Any) -> None:
    """Refuse at save time what can be checked without the account's secrets."""
    parameters = getattr(definition, "parameters", {}) or {}
    known = {"intune": tuple(intune.STREAMS), "amapi": amapi.STREAMS}.get(provider)
    if known is not None:
        unknown = [n for n in _names(parameters.get("collections"), known) if n not in known]
        if unknown:
            raise ValueError(f"unknown collections {unknown}; choose from {', '.join(known)}")
