"""Readers for normalized-event inputs (contract section 5): NDJSON, a JSON array, CSV, gzip,
and stdin. Each yields `Raw` items: a record, or the reason its line could not be read."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO

JSON_SUFFIXES = (".ndjson", ".jsonl", ".json")


@dataclass
class Raw:
    where: str
    record: Mapping[str, object] | None = None
    error: str | None = None
    irrelevant: int = 0  # from the fast reader: this many valid lines before `where` were left unread


def _base_name(path: str) -> str:
    lower = path.lower()
    return lower[:-3] if lower.endswith(".gz") else lower


def _open_text(path: str) -> IO[str]:
    if path.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", errors="replace", newline="")
    return open(path, encoding="utf-8-sig", errors="replace", newline="")


def read_input(path: str, label: str | None = None) -> Iterator[Raw]:
    """Records of one input file; `label` names it in messages (stdin is read from a copy)."""
    label = label or path
    name = _base_name(label)
    with _open_text(path) as handle:
        if name.endswith(".csv"):
            yield from _read_csv(handle, label)
        elif name.endswith(".json"):
            yield from _read_json(handle, label)
        else:
            yield from _read_ndjson(handle, label)


def _record(value: object, where: str) -> Raw:
    if isinstance(value, dict):
        return Raw(where, record=value)
    return Raw(where, error="not a JSON object")


def parse_line(text: str, where: str) -> Raw:
    """One NDJSON line, stripped and not blank: its record, or why it could not be read."""
    try:
        value = json.loads(text)
    except ValueError:
        return Raw(where, error="not JSON")
    return _record(value, where)


def _read_ndjson(handle: Iterable[str], label: str) -> Iterator[Raw]:
    for number, line in enumerate(handle, start=1):
        text = line.strip()
        if text:
            yield parse_line(text, f"{label}:{number}")


def _read_json(handle: IO[str], label: str) -> Iterator[Raw]:
    """A top-level array of events, or NDJSON in a .json file."""
    head = handle.read(4096)
    if not head.lstrip().startswith("["):
        rest = io.StringIO(head + handle.read())
        yield from _read_ndjson(rest, label)
        return
    text = head + handle.read()
    decoder = json.JSONDecoder()
    index = text.index("[") + 1
    length = len(text)
    while True:
        while index < length and text[index] in " \t\r\n,":
            index += 1
        if index >= length or text[index] == "]":
            return
        line = text.count("\n", 0, index) + 1
        try:
            value, index = decoder.raw_decode(text, index)
        except ValueError:
            yield Raw(f"{label}:{line}", error="not JSON (the rest of the array cannot be read)")
            return
        yield _record(value, f"{label}:{line}")


def _read_csv(handle: IO[str], label: str) -> Iterator[Raw]:
    reader = csv.DictReader(handle)
    try:
        for row in reader:
            record = {k: v for k, v in row.items() if k is not None and v not in (None, "")}
            yield Raw(f"{label}:{reader.line_num}", record=record)
    except csv.Error as exc:
        yield Raw(f"{label}:{reader.line_num}", error=f"CSV error ({exc})")
