"""A stand-in for splunkd on 127.0.0.1 that answers the documented REST endpoints the setup page
uses, in the app context `/servicesNS/nobody/<app>/`:

- `storage/collections/data/<collection>`: GET (JSON array of records; 404 for a collection
  collections.conf does not declare), POST `<collection>/batch_save` (JSON array: insert or replace
  by `_key`, answers the keys), DELETE `<collection>/<key>` (404 when there is no such record);
- `configs/conf-macros/<name>`: GET (`entry[0].content.definition`), POST `definition=...`;
- `saved/searches`: GET (every stanza, `acl.app`), POST `saved/searches/<name>` with form fields.

It starts from the app's own default/collections.conf, macros.conf and savedsearches.conf, checks
`Authorization: Splunk <session key>`, keeps every request in `requests` as (method, path), and
answers 503 for a path in `failing`.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from tests.splunk.test_knowledge_objects import read_conf
from tests.standin_http import JsonHandler, local_server, serving
from tests.standin_http import messages as _messages

APP = "TA-mobile-ingress"
SESSION_KEY = "stand-in-session-key"
PREFIX = f"/servicesNS/nobody/{APP}/"
DATA = "storage/collections/data/"
DEFAULT = Path(__file__).resolve().parents[2] / "package" / "default"


class StandIn:
    def __init__(self) -> None:
        self.collections: dict[str, list[dict[str, Any]]] = {
            name: [] for name in read_conf(DEFAULT / "collections.conf")
        }
        self.macros = {name: dict(stanza) for name, stanza in read_conf(DEFAULT / "macros.conf").items()}
        self.saved = {
            name: dict(stanza) for name, stanza in read_conf(DEFAULT / "savedsearches.conf").items()
        }
        self.requests: list[tuple[str, str]] = []
        self.failing: set[str] = set()
        self._next_key = 0
        stand_in = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def do_DELETE(self) -> None:
                self._route("DELETE")

            def _route(self, method: str) -> None:
                path = self.path.split("?", 1)[0]
                stand_in.requests.append((method, unquote_plus(path)))
                if self.headers.get("Authorization") != f"Splunk {SESSION_KEY}":
                    return self.send_json(401, _messages("WARN", "call not properly authenticated"))
                if not path.startswith(PREFIX):
                    return self.send_json(404, _messages("ERROR", "Not Found"))
                rest = path[len(PREFIX) :]
                if any(rest.startswith(f) for f in stand_in.failing):
                    return self.send_json(503, _messages("ERROR", "KV Store is initializing"))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = parse_qs(self.path.partition("?")[2])
                status, answer = stand_in.answer(
                    method, rest, body, self.headers.get("Content-Type", ""), query
                )
                self.send_json(status, answer)

        self.server = local_server(Handler)
        self.port = self.server.server_address[1]
        self.uri = f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------------------------

    def answer(
        self,
        method: str,
        rest: str,
        body: bytes,
        content_type: str,
        query: dict[str, list[str]] | None = None,
    ) -> tuple[int, object]:
        if rest.startswith(DATA):
            parts = [unquote_plus(p) for p in rest[len(DATA) :].split("/")]
            return self._kv(method, parts, body, query or {})
        if rest.startswith("configs/conf-macros/"):
            return self._conf(self.macros, method, unquote_plus(rest.split("/", 2)[2]), body)
        if rest == "saved/searches" and method == "GET":
            return 200, {"entry": [self._entry(n, s) for n, s in self.saved.items()]}
        if rest.startswith("saved/searches/"):
            return self._conf(self.saved, method, unquote_plus(rest.split("/", 2)[2]), body)
        return 404, _messages("ERROR", "Not Found")

    def _entry(self, name: str, content: dict[str, str]) -> dict[str, object]:
        return {"name": name, "content": dict(content), "acl": {"app": APP, "owner": "nobody"}}

    def _conf(
        self, stanzas: dict[str, dict[str, str]], method: str, name: str, body: bytes
    ) -> tuple[int, object]:
        if name not in stanzas:
            return 404, _messages("ERROR", f"Could not find object id={name}")
        if method == "POST":
            for key, values in parse_qs(body.decode("utf-8"), keep_blank_values=True).items():
                stanzas[name][key] = values[-1]
        elif method != "GET":
            return 405, _messages("ERROR", "Method not allowed")
        return 200, {"entry": [self._entry(name, stanzas[name])]}

    @staticmethod
    def query(records: list[dict[str, Any]], query: dict[str, list[str]]) -> list[dict[str, Any]]:
        """The documented `sort`, `skip` and `limit` of a KV store data query (splunkd caps a
        query at limits.conf [kvstore] max_rows_per_query, 50,000 by default)."""
        rows = list(records)
        field, _, direction = query.get("sort", [""])[0].partition(":")
        if field:
            rows.sort(key=lambda r: str(r.get(field, "")), reverse=direction == "-1")
        skip = int(query.get("skip", ["0"])[0])
        limit = int(query.get("limit", ["0"])[0]) or 50_000
        return rows[skip : skip + min(limit, 50_000)]

    def _kv(
        self, method: str, parts: list[str], body: bytes, query: dict[str, list[str]]
    ) -> tuple[int, object]:
        name = parts[0]
        if name not in self.collections:
            return 404, _messages("ERROR", "Collection not found")
        records = self.collections[name]
        if len(parts) == 1 and method == "GET":
            return 200, self.query(records, query)
        if parts[1:] == ["batch_save"] and method == "POST":
            keys = []
            for record in json.loads(body):
                if "_key" not in record:
                    self._next_key += 1
                    record["_key"] = f"{self._next_key:024x}"
                for i, old in enumerate(records):
                    if old["_key"] == record["_key"]:
                        records[i] = {**record, "_user": "nobody"}
                        break
                else:
                    records.append({**record, "_user": "nobody"})
                keys.append(record["_key"])
            return 200, keys
        if len(parts) == 2 and method == "DELETE":
            for i, old in enumerate(records):
                if old["_key"] == parts[1]:
                    del records[i]
                    return 200, {}
            return 404, _messages("ERROR", "Could not find object.")
        return 405, _messages("ERROR", "Method not allowed")

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.requests if m != "GET"]

    def serving(self) -> AbstractContextManager[ThreadingHTTPServer]:
        return serving(self.server)
