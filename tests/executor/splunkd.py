"""A stand-in splunkd on 127.0.0.1 that serves the instance's KV store to custom commands, at
`/servicesNS/nobody/<app>/storage/collections/data/<collection>` (REST semantics in kvstore.py):
GET with `query`, `sort`, `skip`, `limit`, `fields`; POST `<collection>/batch_save` (JSON array),
POST `<collection>` (one record); DELETE `<collection>/<key>` or `<collection>?query=...`.
A collection collections.conf does not declare is a 404; a request without
`Authorization: Splunk <session key>` a 401. Every request is kept in `KVStore.requests`.

With `confs` (the instance's `macros` and `savedsearches` dicts) it also serves what the setup
page's handlers change, on the instance's own state, so an edit made through them takes effect
in the next search: `configs/conf-macros/<name>` (GET: `entry[0].content.definition`; POST
`definition=`), `saved/searches` (GET: every stanza with `acl.app`) and `saved/searches/<name>`
(POST: form fields become the stanza's keys). Entity names are URL-encoded as splunklib does
(`+` for a space)."""

from __future__ import annotations

import json
import secrets
import threading
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

from tests.standin_http import JsonHandler, local_server, messages

from .kvstore import KVError, KVStore, parse_query

DATA = "storage/collections/data/"


class StandInSplunkd:
    def __init__(self, kvstore: KVStore, app: str, confs: Any = None) -> None:
        self.kvstore = kvstore
        self.app = app
        self.confs = confs
        self.session_key = secrets.token_hex(16)
        self.prefix = f"/servicesNS/nobody/{app}/{DATA}"
        self.app_prefix = f"/servicesNS/nobody/{app}/"
        stand_in = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def do_DELETE(self) -> None:
                self._route("DELETE")

            def _route(self, method: str) -> None:
                parts = urlsplit(self.path)
                path = unquote_plus(parts.path)
                params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                with stand_in.kvstore.lock:
                    stand_in.kvstore.requests.append((method, self.path))
                if self.headers.get("Authorization") != f"Splunk {stand_in.session_key}":
                    return self.send_json(401, messages("WARN", "call not properly authenticated"))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if stand_in.confs is not None and path.startswith(stand_in.app_prefix):
                    conf_answer = stand_in.conf_answer(method, path[len(stand_in.app_prefix) :], body)
                    if conf_answer is not None:
                        return self.send_json(*conf_answer)
                if not path.startswith(stand_in.prefix):
                    return self.send_json(404, messages("ERROR", "Not Found"))
                try:
                    status, answer = stand_in.answer(
                        method, path[len(stand_in.prefix) :].split("/"), params, body
                    )
                except KVError as exc:
                    status, answer = exc.status, messages("ERROR", str(exc))
                except ValueError as exc:
                    status, answer = 400, messages("ERROR", f"Bad request: {exc}")
                self.send_json(status, answer)

        self.server: ThreadingHTTPServer = local_server(Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}"
        # A short poll interval: shutdown() waits for one poll (0.5 s by default) on every close.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def answer(self, method: str, parts: list[str], params: dict[str, str], body: bytes) -> tuple[int, Any]:
        store = self.kvstore
        name = parts[0]
        store.collection(name)
        rest = [p for p in parts[1:] if p]
        if method == "GET" and not rest:
            records = store.query(
                name,
                parse_query(params.get("query")),
                params.get("sort") or None,
                int(params.get("skip") or 0),
                int(params.get("limit") or 0),
                params.get("fields") or None,
            )
            return 200, records
        if method == "GET" and len(rest) == 1:
            for record in store.all_records(name):
                if record["_key"] == rest[0]:
                    return 200, record
            raise KVError(404, "Could not find object.")
        if method == "POST" and rest == ["batch_save"]:
            records = json.loads(body or b"[]")
            if not isinstance(records, list):
                raise KVError(400, "batch_save expects a JSON array")
            if len(records) > store_batch_limit(store):
                raise KVError(400, f"Request exceeds API limits - batch_save of {len(records)} documents")
            return 200, store.batch_save(name, records)
        if method == "POST" and not rest:
            record = json.loads(body or b"{}")
            return 201, {"_key": store.save(name, record)}
        if method == "DELETE" and len(rest) == 1:
            store.delete(name, key=rest[0])
            return 200, {}
        if method == "DELETE" and not rest:
            store.delete(name, query=parse_query(params.get("query")))
            return 200, {}
        raise KVError(405, "Method not allowed")

    def conf_answer(self, method: str, rest: str, body: bytes) -> tuple[int, Any] | None:
        """The conf endpoints the setup page uses, or None for another path."""
        if rest.startswith("configs/conf-macros/"):
            stanzas = self.confs.macros
            name = rest[len("configs/conf-macros/") :]
        elif rest == "saved/searches" and method == "GET":
            entries = [self._entry(n, s) for n, s in self.confs.savedsearches.items()]
            return 200, {"entry": entries}
        elif rest.startswith("saved/searches/"):
            stanzas = self.confs.savedsearches
            name = rest[len("saved/searches/") :]
        else:
            return None
        if name not in stanzas:
            return 404, messages("ERROR", f"Could not find object id={name}")
        if method == "POST":
            for key, values in parse_qs(body.decode("utf-8"), keep_blank_values=True).items():
                if key != "output_mode":
                    stanzas[name][key] = values[-1]
        elif method != "GET":
            return 405, messages("ERROR", "Method not allowed")
        return 200, {"entry": [self._entry(name, stanzas[name])]}

    def _entry(self, name: str, content: dict[str, str]) -> dict[str, Any]:
        return {"name": name, "content": dict(content), "acl": {"app": self.app, "owner": "nobody"}}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def store_batch_limit(store: KVStore) -> int:
    return getattr(store, "max_documents_per_batch_save", 1000)
