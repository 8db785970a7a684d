"""KV store lookups against a stand-in for splunkd on 127.0.0.1 that speaks the documented endpoint
`GET /servicesNS/nobody/<app>/storage/collections/data/<collection>` (JSON array of records, 404
for an unknown collection, `Authorization: Splunk <session key>`), with its documented query
parameters `limit`, `skip` and `sort`, and the cap `limits.conf [kvstore] max_rows_per_query`
(50,000 by default) on the records one query returns. Records are stored in insertion order,
which is not `_key` order: only a sorted read has a defined order.

https://docs.splunk.com/Documentation/Splunk/latest/RESTREF/RESTkvstore#storage.2Fcollections.2Fdata.2F.7Bcollection.7D
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.standin_http import JsonHandler, local_server, messages, serving

from . import scp
from .support import SHIPPED, as_splunk, chunks_of, cli_findings, from_row

APP = "TA-mobile-ingress"
SESSION_KEY = "stand-in-session-key"
PREFIX = f"/servicesNS/nobody/{APP}/storage/collections/data/"


class StandIn:
    def __init__(self) -> None:
        self.collections: dict[str, list[dict[str, Any]]] = {}
        self.failing: set[str] = set()
        self.requests: list[str] = []
        self.max_rows_per_query = 50_000
        self.ignore_skip = False
        stand_in = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                stand_in.requests.append(path)
                if self.headers.get("Authorization") != f"Splunk {SESSION_KEY}":
                    return self.send_json(401, messages("WARN", "call not properly authenticated"))
                name = path[len(PREFIX) :] if path.startswith(PREFIX) else None
                if name in stand_in.failing:
                    return self.send_json(503, messages("ERROR", "KV Store is initializing"))
                if name is None or name not in stand_in.collections:
                    return self.send_json(404, messages("ERROR", "Could not find object."))
                return self.send_json(200, stand_in.query(name, parse_qs(self.path.partition("?")[2])))

        self.server = local_server(Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}"

    def query(self, name: str, params: dict[str, list[str]]) -> list[dict[str, Any]]:
        records = list(self.collections[name])
        sort = params.get("sort", [""])[0]
        if sort:
            field, _, direction = sort.partition(":")
            records.sort(key=lambda r: str(r.get(field, "")), reverse=direction == "-1")
        skip = 0 if self.ignore_skip else int(params.get("skip", ["0"])[0])
        limit = int(params.get("limit", ["0"])[0]) or self.max_rows_per_query
        return records[skip : skip + min(limit, self.max_rows_per_query)]

    def load_csv(self, collection: str, path: Path) -> None:
        with path.open(encoding="utf-8", newline="") as handle:
            self.collections[collection] = [
                {"_key": f"{i:024x}", "_user": "nobody", **row}
                for i, row in enumerate(csv.DictReader(handle))
            ]


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    with serving(server.server):
        yield server


def reader(stand_in: StandIn) -> Any:
    from splunklib.client import Service

    scp.load_command_module()  # puts package/bin on sys.path, as splunkd runs the script from bin/
    from mobile_ingress_splunk.kvstore import KVStoreReader

    port = stand_in.server.server_address[1]
    service = Service(scheme="http", host="127.0.0.1", port=port, token=SESSION_KEY)
    return KVStoreReader(service, APP)


def test_reader_returns_rows_without_internal_fields(stand_in: StandIn) -> None:
    stand_in.collections["mobile_ingress_allowed_destinations"] = [
        {"_key": "k1", "_user": "nobody", "destination": "*.example.com", "app_id": "*", "comment": "ok"},
        {"_key": "k2", "_user": "nobody", "destination": "10.0.0.0/8", "app_id": None, "disabled": True},
    ]
    rows = reader(stand_in).rows("mobile_ingress_allowed_destinations")
    assert [r.values for r in rows] == [
        {"destination": "*.example.com", "app_id": "*", "comment": "ok"},
        {"destination": "10.0.0.0/8", "app_id": "", "comment": "", "disabled": "true"},
    ]
    assert [r.where for r in rows] == [
        "mobile_ingress_allowed_destinations:k1",
        "mobile_ingress_allowed_destinations:k2",
    ]
    # one page with the two records, then an empty page that ends the read
    assert stand_in.requests == [PREFIX + "mobile_ingress_allowed_destinations"] * 2


def test_a_record_lacking_a_column_is_an_empty_cell_not_a_failed_lookup(stand_in: StandIn) -> None:
    """A KV store record is schemaless: a builder (or an admin's outputlookup) that writes no
    approved_roles for an app must not stop every search that reads the collection."""
    from mobile_ingress.engine.lookups import Lookups, LookupSource

    stand_in.collections["mobile_ingress_managed_apps"] = [
        {"_key": "a", "platform": "ios", "app_id": "com.example.field", "managed": "true", "source": "jamf"},
    ]
    rows = reader(stand_in).rows("mobile_ingress_managed_apps")
    assert rows[0].values["approved_roles"] == ""
    lookups = Lookups.load({"managed_apps": [LookupSource("kv", lambda: rows)]})
    app = lookups.managed_app("ios", "com.example.field")
    assert app is not None and app.managed and not app.approved


def _many(count: int) -> list[dict[str, Any]]:
    """Records inserted in an order that is not `_key` order."""
    keys = [f"{(i * 7919) % count:06d}" for i in range(count)]
    return [{"_key": key, "destination": f"h{key}.example.com", "app_id": "*"} for key in keys]


def test_a_collection_larger_than_the_query_cap_is_read_whole(stand_in: StandIn) -> None:
    stand_in.max_rows_per_query = 1_000  # an admin lowered limits.conf [kvstore] max_rows_per_query
    stand_in.collections["mobile_ingress_allowed_destinations"] = _many(3_500)
    rows = reader(stand_in).rows("mobile_ingress_allowed_destinations")
    assert len(rows) == 3_500
    assert len({r.where for r in rows}) == 3_500


def test_a_collection_is_read_in_key_order_whatever_its_storage_order(stand_in: StandIn) -> None:
    stand_in.collections["mobile_ingress_file_risk_patterns"] = [
        {
            "_key": "zz-user",
            "platform": "android",
            "field": "file_name",
            "pattern": "*.zip",
            "risk_class": "package",
        },
        {
            "_key": "aa-shipped",
            "platform": "android",
            "field": "file_name",
            "pattern": "*.zip",
            "risk_class": "archive",
        },
    ]
    rows = reader(stand_in).rows("mobile_ingress_file_risk_patterns")
    assert [r.values["risk_class"] for r in rows] == ["archive", "package"]


def test_a_server_that_ignores_paging_is_a_clear_error_not_a_loop(stand_in: StandIn) -> None:
    from mobile_ingress.engine.errors import LookupFileError

    stand_in.ignore_skip = True
    stand_in.max_rows_per_query = 10
    stand_in.collections["mobile_ingress_allowed_destinations"] = _many(25)
    with pytest.raises(LookupFileError, match="ignores paging"):
        reader(stand_in).rows("mobile_ingress_allowed_destinations")


def test_reader_unknown_collection_is_none_and_a_failure_is_an_error(stand_in: StandIn) -> None:
    from mobile_ingress.engine.errors import LookupFileError

    assert reader(stand_in).rows("mobile_ingress_nothing") is None
    stand_in.failing.add("mobile_ingress_managed_apps")
    with pytest.raises(LookupFileError, match="mobile_ingress_managed_apps"):
        reader(stand_in).rows("mobile_ingress_managed_apps")


def test_kv_store_collections_come_first(
    stand_in: StandIn, fleet: Path, events: list[dict[str, object]], tmp_path: Path
) -> None:
    """The fleet's lookups served from the KV store (no `_local` CSVs) give the CLI's findings;
    a `_local` CSV that would change them is ignored while its collection has rows."""
    app = tmp_path / APP
    (app / "lookups").mkdir(parents=True)
    for path in SHIPPED.glob("*.csv"):
        shutil.copy(path, app / "lookups" / path.name)
    for path in (fleet / "lookups").glob("*.csv"):
        stand_in.load_csv(path.stem, path)
        (app / "lookups" / f"{path.stem}_local.csv").write_text(path.read_text().splitlines()[0] + "\n")
    (app / "lookups" / "mobile_ingress_allowed_destinations_local.csv").write_text(
        "destination,app_id,comment\n*,*,would allow everything\n"
    )
    stand_in.collections["mobile_ingress_allowed_destinations"] = stand_in.collections.get(
        "mobile_ingress_allowed_destinations", []
    ) or [{"_key": "x", "destination": "never.invalid", "app_id": "*", "comment": ""}]
    expected = [as_splunk(f) for f in cli_findings(fleet, fleet / "events.ndjson")]
    dispatch = tmp_path / "dispatch"
    dispatch.mkdir()
    result = scp.run(
        [], chunks_of(events, 600), app, dispatch, splunkd_uri=stand_in.uri, session_key=SESSION_KEY
    )
    assert result.exit_code is None, result.messages
    names = list(expected[0])
    assert [from_row(row, names) for row in result.rows] == expected
    # each of the seven collections: a page of records (or a 404), then an empty page
    assert len(set(stand_in.requests)) == 7


def test_an_unreachable_kv_store_is_a_clear_error(
    stand_in: StandIn, app_dir: Path, events: list[dict[str, object]], tmp_path: Path
) -> None:
    stand_in.failing.add("mobile_ingress_allowed_apps")
    result = scp.run([], [events[:5]], app_dir, tmp_path, splunkd_uri=stand_in.uri, session_key=SESSION_KEY)
    assert result.exit_code == 1
    errors = result.texts("ERROR")
    assert len(errors) == 1 and "KV store collection mobile_ingress_allowed_apps" in errors[0], errors
    assert "Traceback" not in errors[0]


def test_the_kv_store_namespace_is_the_app_folder_the_command_runs_from(
    stand_in: StandIn, tmp_path: Path
) -> None:
    """An admin may install the package under another folder name: the command reads that app's
    collections, never a hard-coded one."""
    app = tmp_path / "TA-mobile-ingress-staging"
    (app / "lookups").mkdir(parents=True)
    event = {"_time": "1700000000", "activity": "state", "platform": "android", "device_id": "d1"}
    scp.run([], [[event]], app, tmp_path, splunkd_uri=stand_in.uri, session_key=SESSION_KEY)
    assert stand_in.requests
    assert all(p.startswith("/servicesNS/nobody/TA-mobile-ingress-staging/") for p in stand_in.requests)
