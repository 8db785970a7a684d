"""Readers for normalized-event inputs (contract section 5): NDJSON, a JSON array, CSV, gzip,
and stdin. Each yields `Raw` items: a record, or the reason its line could not be read.

What no reader lets through (each is one skipped record with its reason, the rest of the input
read on): a record whose object repeats a key (parsers disagree on which value counts: the fast
reader's DuckDB took the first, `json.loads` the last, Splunk makes both a multivalue field), JSON
nested too deeply for the parser, and a CSV cell over MAX_CELL characters (the csv module raised
at its 128 KiB limit and the rest of the file was lost)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO

JSON_SUFFIXES = (".ndjson", ".jsonl", ".json")
MAX_CELL = 131072  # characters: the csv module's old default limit, now a per-record rule
csv.field_size_limit(sys.maxsize)  # the reader judges cells itself, record by record


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


class _Decoder:
    """JSON decoding that notes whether the object decoded last (the outermost one of a record:
    the hook is called for inner objects first) repeats a key."""

    def __init__(self) -> None:
        self.repeated: str | None = None
        self.decoder = json.JSONDecoder(object_pairs_hook=self._object)

    def _object(self, pairs: list[tuple[str, object]]) -> dict[str, object]:
        value = dict(pairs)
        self.repeated = None
        if len(value) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    self.repeated = key
                    break
                seen.add(key)
        return value


_DECODER = _Decoder()
# Objects as lists of (key, value) pairs, from C: a repeated key shows as fewer keys than pairs.
_PAIRS_SCAN = json.JSONDecoder(object_pairs_hook=list).scan_once  # type: ignore[attr-defined]  # set in __init__, not in typeshed
DUPLICATE_KEY = "duplicate key"
TOO_DEEP = "not JSON (nested too deeply)"


def _record(value: object, where: str) -> Raw:
    if isinstance(value, dict):
        if _DECODER.repeated is not None:
            return Raw(where, error=f"{DUPLICATE_KEY} {_DECODER.repeated[:80]!r} (the record is ambiguous)")
        return Raw(where, record=value)
    return Raw(where, error="not a JSON object")


def parse_line(text: str, where: str) -> Raw:
    """One NDJSON line, stripped and not blank: its record, or why it could not be read."""
    try:
        value = _DECODER.decoder.decode(text)
    except RecursionError:
        return Raw(where, error=TOO_DEEP)
    except ValueError:
        return Raw(where, error="not JSON")
    return _record(value, where)


def plain_record(text: str) -> dict[str, object] | None:
    """The record of a stripped NDJSON line that is plainly one JSON object with no object inside
    it (no `{` anywhere else) and no repeated key, exactly as `parse_line` reads it; None when the
    line is anything else, then `parse_line` decides (and says what is wrong). The common case,
    without a Python call for the object (the repeated-key check of `parse_line` needs one)."""
    if text[0] != "{" or text.count("{") != 1:
        return None
    try:
        pairs, end = _PAIRS_SCAN(text, 0)
    except (ValueError, StopIteration, RecursionError):
        return None
    if end != len(text):
        return None
    record = dict(pairs)
    return record if len(record) == len(pairs) else None


def is_ndjson(label: str) -> bool:
    """Read as NDJSON (by its name: not .csv, not .json)."""
    name = _base_name(label)
    return not name.endswith(".csv") and not name.endswith(".json")


def ndjson_lines(path: str) -> Iterator[tuple[int, str]]:
    """The stripped, non-blank lines of an NDJSON input with their line numbers."""
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if text:
                yield number, text


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
    decoder = _DECODER.decoder
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
        except RecursionError:
            yield Raw(f"{label}:{line}", error=f"{TOO_DEEP} (the rest of the array cannot be read)")
            return
        except ValueError:
            yield Raw(f"{label}:{line}", error="not JSON (the rest of the array cannot be read)")
            return
        yield _record(value, f"{label}:{line}")


def _read_csv(handle: IO[str], label: str) -> Iterator[Raw]:
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield Raw(f"{label}:{reader.line_num}", error=f"CSV error ({exc})")
        return
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a malformed record (e.g. a NUL byte): the parser cannot go on
            where = f"{label}:{reader.line_num}"
            yield Raw(where, error=f"CSV error ({exc}; the rest of the file cannot be read)")
            return
        where = f"{label}:{reader.line_num}"
        if not cells:  # a blank line, as csv.DictReader skipped it
            continue
        if repeated:
            yield Raw(where, error=f"{DUPLICATE_KEY} {repeated[0]!r} (the CSV header repeats the column)")
        elif any(len(cell) > MAX_CELL for cell in cells):
            yield Raw(where, error=f"CSV cell over {MAX_CELL} characters")
        else:
            record = {name: cell for name, cell in zip(header, cells) if cell != ""}
            yield Raw(where, record=record)
