"""KV store collections as lookup sources, read through splunkd's documented REST endpoint
`GET /servicesNS/nobody/<app>/storage/collections/data/<collection>` (a JSON array of records).

splunkd answers at most `limits.conf [kvstore] max_rows_per_query` records a query (50,000 by
default), so a collection is read in pages (`limit`, `skip`) sorted by `_key`: every record once,
in a defined order. The order matters for `mobile_ingress_file_risk_patterns`, where the first
matching row gives the risk class: in a collection that is `_key` order, which is also the order
in which the setup page lists the entries (by name). A page smaller than asked is not taken as the
end (an admin may have lowered the cap): reading stops at an empty page.

`KVStoreReader` is the small interface the search command uses; anything with splunklib's
`Service.get(path, owner=..., app=..., **query)` works, so tests run it against a stand-in server.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from mobile_ingress.engine.errors import LookupFileError
from mobile_ingress.engine.lookups import COLUMNS, LookupSource, Row

DATA_PATH = "storage/collections/data/"
PREFIX = "mobile_ingress_"
PAGE_ROWS = 10_000  # under splunkd's default cap, so a lowered cap costs only extra pages
MAX_PAGES = 10_000  # a server that ignores `skip` must not loop forever


class KVStoreReader:
    """Reads whole collections of one app (owner `nobody`: shared at the app level)."""

    def __init__(self, service: Any, app: str) -> None:
        self.service = service
        self.app = app

    def records(self, collection: str) -> list[dict[str, Any]] | None:
        """The collection's records in `_key` order, or None when splunkd does not know the
        collection (404)."""
        records: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            page = self._page(collection, skip=len(records))
            if page is None:
                return None
            if not page:
                return records
            keys = [str(record.get("_key", "")) for record in page]
            if seen.intersection(keys):
                raise LookupFileError(
                    f"KV store collection {collection}: splunkd repeated records at skip={len(records)} "
                    "(it ignores paging); cannot read the collection whole"
                )
            seen.update(keys)
            records.extend(page)
        raise LookupFileError(f"KV store collection {collection}: more than {MAX_PAGES} pages")

    def _page(self, collection: str, skip: int) -> list[dict[str, Any]] | None:
        try:
            response = self.service.get(
                DATA_PATH + collection,
                owner="nobody",
                app=self.app,
                output_mode="json",
                sort="_key",
                limit=PAGE_ROWS,
                skip=skip,
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
        """Lookup rows: every field but the `_`-prefixed ones (`_key`, `_user`), as text. A KV store
        record is schemaless: a contract column it lacks is an empty cell (the engine then judges
        the row, and skips a bad one with a warning), never a lookup that fails whole."""
        records = self.records(collection)
        if records is None:
            return None
        columns = COLUMNS.get(collection[len(PREFIX) :], ()) if collection.startswith(PREFIX) else ()
        rows = []
        for record in records:
            values = {name: "" for name in columns}
            values.update(
                (name, _text(value)) for name, value in record.items() if not str(name).startswith("_")
            )
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
