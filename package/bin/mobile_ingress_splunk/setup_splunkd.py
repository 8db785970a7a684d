"""What the setup page asks of splunkd, through its documented REST endpoints (app context,
owner `nobody`, so every change is shared at the app level):

- KV store: `storage/collections/data/<collection>` (GET the records; POST `batch_save` a JSON
  array, which inserts or replaces records by `_key`; DELETE `<collection>/<key>`);
- macros: `configs/conf-macros/<name>` (GET, POST `definition`);
- saved searches: `saved/searches` (GET, POST `dispatch.earliest_time` to `saved/searches/<name>`).

`SplunkdSetup` is the small interface; it wraps anything with splunklib's `Context.get/post/delete`
(`path, owner=..., app=..., **query`), so tests run it against a stand-in server on 127.0.0.1.
"""

from __future__ import annotations

import json
from typing import Any

from mobile_ingress.engine.errors import LookupFileError

from .kvstore import DATA_PATH, KVStoreReader
from .setup_window import SavedSearch

JSON = [("Content-Type", "application/json")]
BATCH = 500


class SplunkdError(RuntimeError):
    """splunkd refused or failed a request; the message names what was being done."""


def _segment(name: str) -> Any:
    """One path segment as splunklib encodes entity names (`UrlEncoded`, slashes too): a plain
    string would be encoded again by splunklib, so `%20` would reach splunkd as `%2520`. Saved
    searches of ES 8 are named `... - Rule`, with spaces."""
    from splunklib.binding import UrlEncoded

    return UrlEncoded(name, encode_slash=True)


class SplunkdSetup:
    def __init__(self, service: Any, app: str) -> None:
        self.service = service
        self.app = app
        self._kv = KVStoreReader(service, app)

    # KV store -----------------------------------------------------------------------------

    def records(self, collection: str) -> list[dict[str, Any]]:
        """The collection's records ([] when splunkd does not know the collection yet)."""
        try:
            return self._kv.records(collection) or []
        except LookupFileError as exc:
            raise SplunkdError(str(exc)) from None

    def save(self, collection: str, records: list[dict[str, str]]) -> None:
        """Insert or replace RECORDS by `_key`, in order, BATCH at a time (splunkd caps a
        batch_save at limits.conf `max_documents_per_batch_save`, 1000 by default)."""
        for start in range(0, len(records), BATCH):
            batch = records[start : start + BATCH]
            self._call(
                f"saving {len(batch)} entries to the KV store collection {collection}",
                "post",
                DATA_PATH + collection + "/batch_save",
                headers=JSON,
                body=json.dumps(batch),
            )

    def delete(self, collection: str, key: str) -> None:
        self._call(
            f"deleting entry {key!r} from the KV store collection {collection}",
            "delete",
            DATA_PATH + collection + "/" + _segment(key),
        )

    # Macros -------------------------------------------------------------------------------

    def macro(self, name: str) -> str:
        data = self._json(f"reading the macro {name}", "configs/conf-macros/" + _segment(name))
        try:
            return str(data["entry"][0]["content"].get("definition", ""))
        except (KeyError, IndexError, TypeError, AttributeError):
            raise SplunkdError(f"reading the macro {name}: unexpected answer from splunkd") from None

    def set_macro(self, name: str, definition: str) -> None:
        self._call(
            f"setting the macro {name}",
            "post",
            "configs/conf-macros/" + _segment(name),
            definition=definition,
        )

    # Saved searches -----------------------------------------------------------------------

    def saved_searches(self, uses: str) -> list[SavedSearch]:
        """This app's saved searches whose search text contains USES (a macro call)."""
        data = self._json("listing the saved searches", "saved/searches", count=0)
        searches = []
        for entry in data.get("entry", []) if isinstance(data, dict) else []:
            content = entry.get("content", {})
            if (entry.get("acl") or {}).get("app", self.app) != self.app:
                continue  # shared from another app
            if uses not in str(content.get("search", "")):
                continue
            searches.append(
                SavedSearch(
                    str(entry.get("name", "")),
                    str(content.get("cron_schedule", "")),
                    str(content.get("dispatch.earliest_time", "")),
                    str(content.get("dispatch.latest_time", "")),
                )
            )
        return searches

    def set_dispatch_earliest(self, search: str, earliest: str) -> None:
        self._call(
            f"setting dispatch.earliest_time of the saved search {search}",
            "post",
            "saved/searches/" + _segment(search),
            **{"dispatch.earliest_time": earliest},
        )

    # --------------------------------------------------------------------------------------

    def _json(self, doing: str, path: str, **query: Any) -> Any:
        response = self._call(doing, "get", path, output_mode="json", **query)
        try:
            return json.loads(response.body.read().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise SplunkdError(f"{doing}: not a JSON answer ({exc})") from None

    def _call(self, doing: str, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.service, method)(path, owner="nobody", app=self.app, **kwargs)
        except Exception as exc:  # splunklib.binding.HTTPError, or the connection failing
            raise SplunkdError(f"{doing}: splunkd answered {_short(exc)}") from None


def _short(exc: Exception) -> str:
    status = getattr(exc, "status", None)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{status} ({text})" if status else text
