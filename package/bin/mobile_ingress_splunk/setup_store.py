"""The allowlist tabs' storage: entries in the KV store collection the detections read first.

Contract section 2: for each lookup the first non-empty source wins and replaces the others, in
this order: the KV store collection `mobile_ingress_<lookup>`, `lookups/<lookup>_local.csv`, the
shipped `lookups/<lookup>.csv`. So a collection holding only the user's entries would silently
drop every shipped default. The store therefore keeps the whole list in the collection:

- While the collection is empty, the page shows what is in force now, the *seed*: the shipped
  rows (keyed `shipped-<slug>`) and, when a `_local` CSV is in force, its rows (keyed
  `local-<slug>`) with the shipped rows disabled (they were not in force). The first change writes
  the seed and the change together, so the detections see the same list plus the change.
- Shipped defaults stay listed and can be disabled (the contract's `disabled` column) but not
  deleted or rewritten: a delete is refused with a message saying to disable it instead. A refusal
  rather than a silent "disable on delete", because a row that survives its own deletion looks
  like a failed delete. A shipped default missing from the collection (new in an upgrade, or
  removed by hand with `outputlookup`) is written back, enabled, with the next change.
- Writes go through `batch_save` (insert or replace by `_key`), one request per change. Rows are
  appended in order: shipped rows first, then the user's, which matters for
  `mobile_ingress_file_risk_patterns`, where the first matching row gives the risk class.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable, Optional

from mobile_ingress.engine.lookups import Row, csv_file_source, header_problem

from .setup_entries import (
    SHIPPED_PREFIX,
    EntryError,
    Table,
    check_name,
    disabled_text,
    identity,
    normalize,
    validate,
)
from .setup_splunkd import SplunkdSetup

LOCAL_PREFIX = "local-"
SHIPPED = "shipped default"
LOCAL = "from {file}"
ADDED = "added"
# A further check of an entry the engine accepted (the handler passes the globalConfig validators):
# the engine's reason, the clearer one, comes first when both would refuse.
Check = Optional[Callable[[dict[str, str]], None]]


@dataclass
class Entry:
    name: str
    values: dict[str, str]  # the contract columns and `disabled`
    origin: str  # SHIPPED, "from <file>", ADDED

    @property
    def shipped(self) -> bool:
        return self.origin == SHIPPED

    def record(self) -> dict[str, str]:
        return {"_key": self.name, **self.values}


def _slug(table: Table, values: Mapping[str, str]) -> str:
    parts = [v for v in (values.get(c, "").strip() for c in table.identity) if v not in ("", "*")]
    slug = re.sub(r"[^A-Za-z0-9_.]+", "-", "-".join(parts)).strip("-._").lower() or "entry"
    if len(slug) > 80:  # keep names short, and distinct through a digest of the whole
        digest = hashlib.sha256(slug.encode("utf-8")).hexdigest()[:8]
        slug = slug[:71].rstrip("-._") + "-" + digest
    return slug


def _keyed(table: Table, rows: list[Row], prefix: str) -> list[tuple[str, dict[str, str]]]:
    """Stable names for CSV rows: PREFIX + slug of what the row matches, numbered on a clash."""
    out: list[tuple[str, dict[str, str]]] = []
    seen: set[str] = set()
    for row in rows:
        values = {column: (row.values.get(column) or "").strip() for column in table.columns}
        values["disabled"] = (row.values.get("disabled") or "").strip()
        base = prefix + _slug(table, values)
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}-{n}"
        seen.add(name)
        out.append((name, values))
    return out


class AllowlistStore:
    def __init__(self, splunkd: SplunkdSetup, table: Table, lookups_dir: str) -> None:
        self.splunkd = splunkd
        self.table = table
        self.lookups_dir = lookups_dir

    # Reading ------------------------------------------------------------------------------

    def shipped(self) -> list[Entry]:
        path = os.path.join(self.lookups_dir, self.table.collection + ".csv")
        rows = csv_file_source(path).read() or []
        return [
            Entry(name, {**values, "disabled": "false"}, SHIPPED)
            for name, values in _keyed(self.table, rows, SHIPPED_PREFIX)
        ]

    def _local(self) -> tuple[str, list[Row]]:
        """The `_local` CSV's rows, when it is in force: one whose header the engine sets aside (a
        lost header line, a repeated column) is not, and seeding from it would store its rows."""
        name = self.table.collection + "_local.csv"
        rows = csv_file_source(os.path.join(self.lookups_dir, name)).read() or []
        header = rows[0].header if rows else None
        if header is not None and header_problem(self.table.lookup, header) is not None:
            return name, []
        return name, rows

    def _seed(self) -> list[Entry]:
        shipped = self.shipped()
        file, local = self._local()
        if not local:
            return shipped
        for entry in shipped:
            entry.values["disabled"] = "true"  # the _local file replaced them
        origin = LOCAL.format(file=file)
        entries = [
            Entry(name, {**values, "disabled": _disabled(values["disabled"])}, origin)
            for name, values in _keyed(self.table, local, LOCAL_PREFIX)
        ]
        return shipped + entries

    def _stored(self) -> list[Entry]:
        shipped = {entry.name for entry in self.shipped()}
        local = LOCAL.format(file=self.table.collection + "_local.csv")
        entries = []
        for record in self.splunkd.records(self.table.collection):
            name = str(record.get("_key", ""))
            values = {field: _text(record.get(field)) for field in self.table.fields}
            values["disabled"] = _disabled(values["disabled"])
            if name in shipped:
                origin = SHIPPED
            elif name.startswith(LOCAL_PREFIX):
                origin = local
            else:
                origin = ADDED
            entries.append(Entry(name, values, origin))
        return entries

    def entries(self) -> list[Entry]:
        """What the page lists: the collection, or the seed while the collection is empty."""
        return self._stored() or self._seed()

    def _state(self) -> tuple[list[Entry], list[Entry]]:
        """(every entry, entries to write with the next change: the seed, or shipped rows missing
        from the collection)."""
        stored = self._stored()
        if not stored:
            seed = self._seed()
            return seed, list(seed)
        names = {entry.name for entry in stored}
        missing = [entry for entry in self.shipped() if entry.name not in names]
        return stored + missing, missing

    # Changing -----------------------------------------------------------------------------

    def create(self, name: str, values: Mapping[str, object], check: Check = None) -> Entry:
        check_name(name, new=True)
        entries, pending = self._state()
        if any(entry.name == name for entry in entries):
            raise EntryError(f"{self.table.title} {name!r} already exists: choose another name.")
        entry = Entry(name, normalize(self.table, values), ADDED)
        validate(self.table, entry.values)
        if check is not None:
            check(entry.values)
        self._refuse_duplicate(entry, entries)
        self.splunkd.save(self.table.collection, [e.record() for e in [*pending, entry]])
        return entry

    def edit(self, name: str, values: Mapping[str, object], check: Check = None) -> Entry:
        entries, pending = self._state()
        current = self._find(name, entries)
        merged = {**current.values, **{k: v for k, v in values.items() if k in self.table.fields}}
        updated = Entry(name, normalize(self.table, merged), current.origin)
        if current.shipped:
            changed = [c for c in self.table.columns if updated.values[c] != current.values[c]]
            if changed:
                raise EntryError(
                    f"{self.table.title} {name!r} is a shipped default: only Disabled can change "
                    f"(you changed {', '.join(changed)}). Disable it and add your own entry instead."
                )
        else:
            validate(self.table, updated.values)
            if check is not None:
                check(updated.values)
            self._refuse_duplicate(updated, entries)
        pending = [e for e in pending if e.name != name]
        self.splunkd.save(self.table.collection, [e.record() for e in [*pending, updated]])
        return updated

    def remove(self, name: str) -> None:
        entries, pending = self._state()
        current = self._find(name, entries)
        if current.shipped:
            raise EntryError(
                f"{self.table.title} {name!r} is a shipped default and cannot be deleted: edit it and "
                "tick Disabled to turn it off. It stays listed so you can turn it back on."
            )
        rest = [e for e in pending if e.name != name]
        self.splunkd.save(self.table.collection, [e.record() for e in rest])
        if not any(e.name == name for e in pending):  # it is stored
            self.splunkd.delete(self.table.collection, name)

    def _find(self, name: str, entries: list[Entry]) -> Entry:
        for entry in entries:
            if entry.name == name:
                return entry
        raise EntryError(f"{self.table.title} {name!r} does not exist.")

    def _refuse_duplicate(self, entry: Entry, entries: list[Entry]) -> None:
        mine = identity(self.table, entry.values)
        for other in entries:
            if other.name != entry.name and identity(self.table, other.values) == mine:
                raise EntryError(
                    f"{self.table.title} refused: the entry {other.name!r} already matches the same "
                    f"({', '.join(self.table.identity)}); edit that one instead."
                )


def _disabled(text: str) -> str:
    """A stored or CSV `disabled` cell as true/false; a value that is no boolean keeps the row, as
    the engine does (it warns)."""
    try:
        return disabled_text(text)
    except EntryError:
        return "false"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
