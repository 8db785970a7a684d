"""KV store collections as lookup sources, read through splunkd's documented REST endpoint
`GET /servicesNS/nobody/<app>/storage/collections/data/<collection>` (a JSON array of records).

`KVStoreReader` is the small interface the search command uses; anything with splunklib's
`Service.get(path, owner=..., app=..., **query)` works, so tests run it against a stand-in server.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from mobile_ingress.engine.errors import LookupFileError
from mobile_ingress.engine.lookups import LookupSource, Row

DATA_PATH = "storage/collections/data/"


class KVStoreReader:
    """Reads whole collections of one app (owner `nobody`: shared at the app level)."""

    def __init__(self, service: Any, app: str) -> None:
        self.service = service
        self.app = app

    def records(self, collection: str) -> list[dict[str, Any]] | None:
        """The collection's records, or None when splunkd does not know the collection (404)."""
        try:
            response = self.service.get(
                DATA_PATH + collection, owner="nobody", app=self.app, output_mode="json"
            )
        except Exception as exc:  # splunklib.binding.HTTPError, or the connection failing
            if getattr(exc, "status", None) == 404:
                return None
            raise LookupFileError(f"KV store collection {collection}: cannot read it ({exc})") from None
        try:
            data = json.loads(response.body.read().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise LookupFileError(f"KV store collection {collection}: not a JSON answer ({exc})") from None
        if not isinstance(data, list):
            raise LookupFileError(f"KV store collection {collection}: expected a list of records")
        return [record for record in data if isinstance(record, dict)]

    def rows(self, collection: str) -> list[Row] | None:
        """Lookup rows: every field but the `_`-prefixed ones (`_key`, `_user`), as text."""
        records = self.records(collection)
        if records is None:
            return None
        rows = []
        for record in records:
            values = {
                name: _text(value) for name, value in record.items() if not str(name).startswith("_")
            }
            rows.append(Row(values, f"{collection}:{record.get('_key', '')}"))
        return rows

    def source(self, collection: str) -> LookupSource:
        read: Callable[[], list[Row] | None] = lambda: self.rows(collection)  # noqa: E731
        return LookupSource(f"KV store collection {collection}", read)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(_text(v) for v in value)
    return str(value)
