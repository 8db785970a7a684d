"""The allowlist tables of the setup page: which lookup each tab edits, and one entry's validation.

Every tab is one contract lookup (contract section 2) stored in its KV store collection
`mobile_ingress_<lookup>`, the first source `ingresscorrelate` reads. An entry is one row: the
lookup's contract columns plus `disabled`, keyed by the entry's name (the record's `_key`).

Validation is the engine's own: the row goes through `Lookups.from_rows`, the code that reads the
lookup at search time, so the setup page refuses exactly what the detection would skip or warn
about, with the engine's reason. One rule for catch-alls on every tab comes first (the engine's
`catch_all`): an entry that would cover every app, every destination, every path or every file is
refused with the safer entry to write instead. What is particular to the page is checked here too
(the name).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mobile_ingress.engine.lookups import COLUMNS, ROLES, Lookups, Row, catch_all, lookup_name
from mobile_ingress.engine.settings import parse_bool

# Shipped defaults are keyed `shipped-<slug>`; a user's entry may not take that prefix.
SHIPPED_PREFIX = "shipped-"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
NAME_RULE = "1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"
_WHERE = "entry"  # the Row label the engine puts in front of its messages


class EntryError(ValueError):
    """An entry the setup page refuses; the message is what the user sees."""


@dataclass(frozen=True)
class Table:
    """One allowlist tab: the UCC tab name is the lookup's short name."""

    lookup: str  # short name, e.g. "allowed_destinations"
    title: str  # singular, for messages
    identity: tuple[str, ...]  # columns that say what the entry matches (two equal = a duplicate)

    @property
    def columns(self) -> tuple[str, ...]:
        return COLUMNS[self.lookup]

    @property
    def collection(self) -> str:
        return lookup_name(self.lookup)

    @property
    def fields(self) -> tuple[str, ...]:
        """What the page stores: the contract columns plus `disabled`."""
        return (*self.columns, "disabled")


TABLES: dict[str, Table] = {
    table.lookup: table
    for table in (
        Table("allowed_apps", "Allowed app", ("platform", "app_id")),
        Table("allowed_destinations", "Allowed destination", ("destination", "app_id")),
        Table("allowed_paths", "Allowed path", ("platform", "app_id", "path_pattern")),
        Table("file_risk_patterns", "File risk pattern", ("platform", "field", "pattern")),
    )
}


def table_for(config_name: str) -> Table:
    try:
        return TABLES[config_name]
    except KeyError:
        raise EntryError(f"no allowlist table named {config_name!r}") from None


def check_name(name: str, *, new: bool) -> None:
    if not NAME_RE.fullmatch(name or ""):
        raise EntryError(f"Name {name!r} is not allowed: use {NAME_RULE}.")
    if new and name.lower().startswith(SHIPPED_PREFIX):
        raise EntryError(
            f"Name {name!r} is not allowed: names starting with {SHIPPED_PREFIX!r} are kept for the "
            "add-on's shipped defaults."
        )


def disabled_text(value: object) -> str:
    """`true` or `false` (the contract's `disabled` column); empty counts as false."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "false"
    try:
        return "true" if parse_bool(value) else "false"
    except ValueError:
        raise EntryError(f"Disabled must be true or false, got {value!r}.") from None


def normalize(table: Table, values: Mapping[str, object]) -> dict[str, str]:
    """The stored form of an entry: every field as trimmed text, `disabled` as true/false."""
    entry = {column: str(values.get(column) or "").strip() for column in table.columns}
    entry["disabled"] = disabled_text(values.get("disabled"))
    return entry


def validate(table: Table, entry: Mapping[str, str]) -> None:
    """Refuse an entry the engine would skip or warn about, with the engine's reason.

    The row is checked as enabled: a disabled entry must still be valid, so that enabling it later
    cannot break the lookup."""
    broad = catch_all(table.lookup, entry)
    if broad is not None:
        raise EntryError(f"{table.title} refused: {broad}.")
    row = Row({column: entry.get(column, "") for column in table.columns}, _WHERE)
    tables = Lookups.from_rows({table.lookup: [row]})
    if tables.warnings:
        raise EntryError(f"{table.title} refused: {_reason(table, tables.warnings[0])}.")


def _reason(table: Table, warning: str) -> str:
    """The engine's warning without its `entry: mobile_ingress_<x> row skipped: ` prefix."""
    text = warning[len(_WHERE) + 2 :] if warning.startswith(_WHERE + ": ") else warning
    skipped = f"{table.collection} row skipped: "
    text = text[len(skipped) :] if text.startswith(skipped) else text
    if text == "empty glob":  # the engine's glob compiler names no column
        column = "path_pattern" if table.lookup == "allowed_paths" else "pattern"
        text = f"{column} is empty (an empty glob matches nothing)"
    elif text.startswith("unknown role") and text.endswith(" ignored"):
        text = f"{text[: -len(' ignored')]} (known: {', '.join(ROLES)})"
    return text


def identity(table: Table, entry: Mapping[str, str]) -> tuple[str, ...]:
    """What the entry matches, compared case-insensitively except for case-sensitive path globs."""
    values = []
    for column in table.identity:
        value = (entry.get(column) or "").strip()
        if column in ("app_id", "platform") and value == "":
            value = "*"
        values.append(value if column == "path_pattern" else value.lower())
    return tuple(values)
