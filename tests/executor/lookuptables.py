"""Lookup tables of the instance: CSV files under its lookups/ folder and KV store collections,
named by transforms.conf (transforms.conf.spec: `filename`, `case_sensitive_match` (default
true), `max_matches` (default 100 for a lookup without time_field), `min_matches`,
`default_match`, `external_type = kvstore` with `collection` and `fields_list`), or a .csv file
named directly.

CSV cells: an empty cell is no value (the field is absent from the row); a cell written from a
multivalue field holds the values one per line and reads back as one value (README).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .conf import conf_bool
from .errors import SplError, UnsupportedSpl
from .kvstore import as_field_value

if TYPE_CHECKING:
    from .splunk import Splunk

_CSV_KEYS = frozenset({"filename", "case_sensitive_match", "max_matches", "min_matches", "default_match"})
_KV_KEYS = frozenset(
    {
        "external_type",
        "collection",
        "fields_list",
        "case_sensitive_match",
        "max_matches",
        "min_matches",
        "default_match",
    }
)


@dataclass
class LookupTable:
    name: str
    kind: str  # csv, kv
    filename: str | None
    collection: str | None
    fields_list: list[str] | None
    case_sensitive: bool
    max_matches: int
    min_matches: int
    default_match: str

    def read(self, splunk: Splunk, capped: bool = False) -> tuple[list[str], list[dict[str, Any]]]:
        """(columns, rows) of the table; KV rows through the store's query (order not
        documented; `capped`: at most max_rows_per_query rows, as inputlookup gets)."""
        if self.kind == "csv":
            assert self.filename is not None
            return read_csv(splunk.lookups_dir / self.filename)
        assert self.collection is not None
        if capped:
            records = splunk.kvstore.query(self.collection)
        else:
            records = splunk.kvstore.all_records(self.collection)
            splunk.rng.shuffle(records)
        columns = list(self.fields_list or [])
        rows = []
        for record in records:
            row: dict[str, Any] = {}
            for name, value in record.items():
                if self.fields_list is not None and name not in self.fields_list:
                    continue
                field_value = as_field_value(value)
                if field_value is not None and field_value != "":
                    row[name] = field_value
                if self.fields_list is None and name not in columns:
                    columns.append(name)
            rows.append(row)
        return columns, rows


def read_csv(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    if not path.is_file():
        raise SplError(f"The lookup table '{path.name}' does not exist or is not available.")
    text = path.read_text(encoding="utf-8-sig")
    if not text.strip():
        return [], []
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    rows = []
    for values in reader:
        row = {name: value for name, value in zip(header, values) if value != ""}
        rows.append(row)
    return header, rows


def write_csv(path: Path, columns: list[str], rows: list[Mapping[str, Any]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        cells = []
        for name in columns:
            value = row.get(name)
            if value is None:
                cells.append("")
            elif isinstance(value, list):
                cells.append("\n".join(value))
            else:
                cells.append(value)
        writer.writerow(cells)
    path.write_text(out.getvalue(), encoding="utf-8")


def resolve(splunk: Splunk, name: str) -> LookupTable:
    stanza = splunk.transforms.get(name)
    if stanza is None:
        if name.endswith(".csv"):
            return LookupTable(name, "csv", name, None, None, True, 100, 0, "")
        if name.endswith(".csv.gz"):
            raise UnsupportedSpl(f"compressed lookup file {name}")
        raise SplError(f"The lookup table '{name}' does not exist or is not available.")
    return from_stanza(name, stanza)


def from_stanza(name: str, stanza: Mapping[str, str]) -> LookupTable:
    kind = stanza.get("external_type")
    allowed = _KV_KEYS if kind == "kvstore" else _CSV_KEYS
    for key in stanza:
        if key not in allowed:
            raise UnsupportedSpl(f"transforms.conf [{name}] {key}")
    case_sensitive = conf_bool(stanza.get("case_sensitive_match"), True)
    max_matches = int(stanza.get("max_matches", "100"))
    min_matches = int(stanza.get("min_matches", "0"))
    default_match = stanza.get("default_match", "")
    if kind == "kvstore":
        collection = stanza.get("collection")
        if not collection:
            raise SplError(f"transforms.conf [{name}]: a KV store lookup needs a collection")
        fields = stanza.get("fields_list")
        fields_list = [f.strip() for f in fields.replace(",", " ").split()] if fields else None
        return LookupTable(
            name, "kv", None, collection, fields_list, case_sensitive, max_matches, min_matches, default_match
        )
    if kind is not None:
        raise UnsupportedSpl(f"transforms.conf [{name}] external_type = {kind}")
    filename = stanza.get("filename")
    if not filename:
        raise UnsupportedSpl(f"transforms.conf [{name}]: not a lookup (no filename or collection)")
    return LookupTable(
        name, "csv", filename, None, None, case_sensitive, max_matches, min_matches, default_match
    )
