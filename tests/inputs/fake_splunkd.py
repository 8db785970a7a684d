"""splunkd stand-in for the documented REST endpoints the inputs use (JSON output mode,
`Authorization: Splunk <session key>`): configs/conf-*, storage/passwords (entries as solnlib
writes them: 255-character chunks closed by an end mark), storage/collections/config and
storage/collections/data (record by key, batch_save)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from .fakeserver import Answer, FakeServer, Request

APP = "TA-mobile-ingress"
SESSION_KEY = "stand-in-session-key-0123456789"
SEP = "``splunk_cred_sep``"
END = SEP.join(["", "S", "P", "L", "U", "N", "K", ""])
PREFIX = f"/servicesNS/nobody/{APP}/"


class FakeSplunkd:
    def __init__(self) -> None:
        self.confs: dict[str, dict[str, dict[str, str]]] = {}
        self.passwords: list[dict[str, str]] = []
        self.collections: dict[str, dict[str, dict[str, Any]]] = {}
        self.server = FakeServer(self.handle)

    def store_account(self, conf: str, name: str, fields: dict[str, str], encrypted: dict[str, str]) -> None:
        """As UCC saves an account: the conf stanza with ******** for the encrypted fields, and
        their JSON in the password store, chunked by solnlib."""
        self.confs.setdefault(conf, {})[name] = {**fields, **dict.fromkeys(encrypted, "********")}
        realm = f"__REST_CREDENTIAL__#{APP}#configs/conf-{conf}"
        text = json.dumps(encrypted)
        chunks = [text[i : i + 255] for i in range(0, len(text), 255)] + [END]
        for index, chunk in enumerate(chunks, 1):
            self.passwords.append(
                {"realm": realm, "username": f"{name}{SEP}{index}", "clear_password": chunk}
            )

    def handle(self, request: Request) -> Answer:
        if request.headers.get("authorization") != f"Splunk {SESSION_KEY}":
            return Answer(401, {"messages": [{"type": "WARN", "text": "call not properly authenticated"}]})
        if request.arg("output_mode") != "json" or not request.path.startswith(PREFIX):
            return Answer(400, {"messages": [{"type": "ERROR", "text": "unexpected request"}]})
        path = urllib.parse.unquote(request.path[len(PREFIX) :])
        if path.startswith("configs/conf-") and request.method == "GET":
            conf, _, name = path[len("configs/conf-") :].partition("/")
            stanza = self.confs.get(conf, {}).get(name)
            if stanza is None:
                return Answer(404, {"messages": [{"type": "ERROR", "text": "Could not find object"}]})
            return Answer(200, {"entry": [{"name": name, "content": {**stanza, "eai:appName": APP}}]})
        if path == "storage/passwords" and request.method == "GET":
            search = request.arg("search", "") or ""
            realm = search[len("realm=") :] if search.startswith("realm=") else None
            entries = [
                {"name": f"{p['realm']}:{p['username']}:", "content": p}
                for p in self.passwords
                if realm is None or realm in p["realm"]
            ]
            return Answer(200, {"entry": entries})
        if path.startswith("storage/collections/config"):
            if request.method == "POST":
                name = request.form()["name"]
                self.collections.setdefault(name, {})
                return Answer(201, {"entry": [{"name": name}]})
            name = path.rsplit("/", 1)[-1]
            if name not in self.collections:
                return Answer(404, {"messages": [{"type": "ERROR", "text": "Could not find object."}]})
            return Answer(200, {"entry": [{"name": name}]})
        if path.startswith("storage/collections/data/"):
            rest = path[len("storage/collections/data/") :]
            collection, _, key = rest.partition("/")
            if collection not in self.collections:
                return Answer(404, {"messages": [{"type": "ERROR", "text": "Collection not found"}]})
            records = self.collections[collection]
            if key == "batch_save" and request.method == "POST":
                for record in request.json():
                    records[record["_key"]] = record
                return Answer(200, [r["_key"] for r in request.json()])
            if request.method == "GET" and key:
                if key not in records:
                    return Answer(404, {"messages": [{"type": "ERROR", "text": "Could not find object."}]})
                return Answer(200, records[key])
        return Answer(404, {"messages": [{"type": "ERROR", "text": f"no endpoint {path}"}]})
