"""What the inputs need from splunkd, through its documented REST endpoints (JSON output), with
the session key splunkd hands every modular input:

- accounts: `configs/conf-<conf>/<stanza>` plus their encrypted fields from `storage/passwords`
  (UCC keeps them as one JSON object per stanza in realm
  `__REST_CREDENTIAL__#<app>#configs/conf-<conf>`, user = the stanza, split by solnlib into
  255-character chunks `<stanza>``splunk_cred_sep``<n>` closed by an end mark);
- settings: the UCC `<app>_settings` conf (`logging`, `proxy` stanzas, proxy password encrypted);
- checkpoints: the KV store collection `ta_mobile_ingress_checkpoints`
  (`storage/collections/config`, `storage/collections/data/<c>/<key>`, `.../batch_save`).

splunkd listens on the local management port with its own certificate, so, like splunklib, this
client does not verify it (it only ever talks to the server_uri splunkd itself passes in)."""

from __future__ import annotations

import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .checkpoint import State, safe_key
from .errors import CheckpointDamaged, ConfigError, InputError

CREDENTIAL_SEP = "``splunk_cred_sep``"
CREDENTIAL_END = CREDENTIAL_SEP.join(["", "S", "P", "L", "U", "N", "K", ""])
MASKED = "********"
CHECKPOINT_COLLECTION = "ta_mobile_ingress_checkpoints"


class SplunkdError(InputError):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class Splunkd:
    def __init__(self, uri: str, session_key: str, app: str, timeout: float = 30.0) -> None:
        self.uri = uri.rstrip("/")
        self.session_key = session_key
        self.app = app
        self.timeout = timeout
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )

    def request(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
        json_body: bool = False,
    ) -> Any:
        url = f"{self.uri}/servicesNS/nobody/{urllib.parse.quote(self.app)}/{path}"
        params = {"output_mode": "json", **(query or {})}
        url += "?" + urllib.parse.urlencode(params)
        headers = {"Authorization": f"Splunk {self.session_key}"}
        data = None
        if body is not None:
            if json_body:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            else:
                data = urllib.parse.urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as error:
            text = error.read()[:300].decode("utf-8", "replace")
            error.close()
            raise SplunkdError(error.code, f"splunkd {method} {path}: HTTP {error.code} {text}") from None
        except (OSError, ValueError) as exc:
            raise SplunkdError(0, f"splunkd {method} {path}: {exc}") from None
        if not raw:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise SplunkdError(200, f"splunkd {method} {path}: not a JSON answer") from None

    # -- confs and passwords ------------------------------------------------------------------------
    def stanza(self, conf: str, name: str) -> dict[str, Any] | None:
        try:
            answer = self.request("GET", f"configs/conf-{conf}/{urllib.parse.quote(name, safe='')}")
        except SplunkdError as exc:
            if exc.status == 404:
                return None
            raise
        entries = answer.get("entry") if isinstance(answer, dict) else None
        if not entries:
            return None
        content = entries[0].get("content") or {}
        return {k: v for k, v in content.items() if not k.startswith("eai:")}

    def credentials(self, conf: str, name: str) -> dict[str, Any]:
        """The encrypted fields UCC stored for stanza NAME of CONF ({} when none)."""
        realm = f"__REST_CREDENTIAL__#{self.app}#configs/conf-{conf}"
        answer = self.request("GET", "storage/passwords", {"count": 0, "search": f"realm={realm}"})
        chunks: dict[int, str] = {}
        whole: str | None = None
        pattern = re.compile(re.escape(name + CREDENTIAL_SEP) + r"(\d+)$")
        for entry in (answer or {}).get("entry", []):
            content = entry.get("content") or {}
            if content.get("realm") != realm:
                continue
            user = content.get("username", "")
            if user == name:
                whole = content.get("clear_password", "")
                continue
            match = pattern.match(user)
            if match:
                chunks[int(match.group(1))] = content.get("clear_password", "")
        text = whole
        if text is None and chunks:
            parts = []
            for index in sorted(chunks):
                if chunks[index] == CREDENTIAL_END:
                    break
                parts.append(chunks[index])
            text = "".join(parts)
        if text is None:
            return {}
        try:
            data = json.loads(text)
        except ValueError:
            raise ConfigError(f"the stored credentials of {conf}/{name} are not JSON") from None
        return data if isinstance(data, dict) else {}

    def account(self, conf: str, name: str) -> dict[str, Any]:
        """Stanza NAME of CONF with its encrypted fields decrypted."""
        stanza = self.stanza(conf, name)
        if stanza is None:
            raise ConfigError(f"account {name!r} does not exist in {conf}.conf")
        secrets = self.credentials(conf, name)
        merged = dict(stanza)
        for field, value in secrets.items():
            merged[field] = value
        for field, value in list(merged.items()):
            if value == MASKED and field not in secrets:
                raise ConfigError(
                    f"account {name!r}: the encrypted field {field} is missing from the password store"
                )
        return merged


class KVStoreCheckpoints:
    """Checkpoints in a KV store collection of the app: one record per key, {_key, state}."""

    def __init__(self, splunkd: Splunkd, collection: str = CHECKPOINT_COLLECTION) -> None:
        self.splunkd = splunkd
        self.collection = collection
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        try:
            self.splunkd.request("GET", f"storage/collections/config/{self.collection}")
        except SplunkdError as exc:
            if exc.status != 404:
                raise
            self.splunkd.request("POST", "storage/collections/config", body={"name": self.collection})
        self._ready = True

    def load(self, key: str) -> State | None:
        self._ensure()
        try:
            record = self.splunkd.request(
                "GET",
                f"storage/collections/data/{self.collection}/{urllib.parse.quote(safe_key(key), safe='')}",
            )
        except SplunkdError as exc:
            if exc.status == 404:
                return None
            raise
        try:
            state = json.loads(record["state"])
        except (TypeError, KeyError, ValueError):
            raise CheckpointDamaged(f"checkpoint {key}: the KV store record is not a saved state") from None
        if not isinstance(state, dict):
            raise CheckpointDamaged(f"checkpoint {key}: the KV store record holds {type(state).__name__}")
        return state

    def save(self, key: str, state: State) -> None:
        self._ensure()
        self.splunkd.request(
            "POST",
            f"storage/collections/data/{self.collection}/batch_save",
            body=[{"_key": safe_key(key), "state": json.dumps(state, sort_keys=True)}],
            json_body=True,
        )
