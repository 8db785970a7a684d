"""Convert a Zeek TSV log (the ASCII writer's default) to the JSON lines Zeek's own JSON writer
writes for the same records.

    python tools/zeek_tsv_to_json.py [--timestamps epoch|iso8601] files.log [files.json]

It follows Zeek's writers (src/threading/formatters/Ascii.cc for the TSV, JSON.cc for the JSON):
the header's `#separator`, `#set_separator`, `#empty_field` and `#unset_field` give the syntax,
`#fields` the keys (in order) and `#types` each value's JSON form:
- `time`: epoch seconds as a number (JSON::TS_EPOCH, the default), or with `--timestamps
  iso8601` the text JSON::TS_ISO8601 writes, `%Y-%m-%dT%H:%M:%S` then six fraction digits and `Z`;
- `interval`, `double`: numbers; `count`, `int`, `port`: integers; `bool`: `T`/`F` to true/false;
- `addr`, `subnet`, `string`, `enum` and the rest: text, with the writer's `\\xNN` escapes undone;
- `set[...]`, `vector[...]`, `table[...]`: arrays, values split on the set separator and each
  converted by its element type;
- the unset field (`-`): the key is left out (the JSON writer writes only fields that are set);
- the empty field (`(empty)`): an empty array for a container, an empty string for text.
Comment lines (`#open`, `#close`, ...) are not records. A row whose column count differs from
`#fields` is an error naming its line.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO, Union

JsonValue = Union[str, int, float, bool, list, None]
_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")
_CONTAINER = re.compile(r"^(set|vector|table)\[(.+)\]$")
_INTEGER = {"count", "int", "port"}
_NUMBER = {"interval", "double"}


class ZeekTsvError(Exception):
    """A line that is not Zeek TSV: the message names the line."""


@dataclass
class Header:
    separator: str = "\t"
    set_separator: str = ","
    empty_field: str = "(empty)"
    unset_field: str = "-"
    fields: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)


def unescape(text: str) -> str:
    """Undo the writer's `\\xNN` escapes (separators, non-printable bytes). Bytes that are not
    UTF-8 keep their escaped form, as Zeek's JSON writer shows them."""
    raw = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return text


def iso8601(seconds: float) -> str:
    """Zeek's JSON::TS_ISO8601 text: whole seconds in UTC, then `.%06.0f` of the fraction, `Z`."""
    whole = math.floor(seconds)
    fraction = seconds - whole
    stamp = datetime.fromtimestamp(whole, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{round(fraction * 1_000_000):06d}Z"


def scalar(text: str, kind: str, timestamps: str) -> JsonValue:
    if kind == "time":
        seconds = float(text)
        return iso8601(seconds) if timestamps == "iso8601" else seconds
    if kind in _NUMBER:
        return float(text)
    if kind in _INTEGER:
        return int(text)
    if kind == "bool":
        if text not in ("T", "F"):
            raise ValueError(f"{text!r} is not a Zeek bool (T or F)")
        return text == "T"
    return unescape(text)


def value(text: str, kind: str, header: Header, timestamps: str) -> tuple[bool, JsonValue]:
    """(present, JSON value) of one column."""
    if text == header.unset_field:
        return False, None
    container = _CONTAINER.match(kind)
    if container is not None:
        if text == header.empty_field:
            return True, []
        element = container.group(2)
        return True, [scalar(part, element, timestamps) for part in text.split(header.set_separator)]
    if text == header.empty_field and kind in ("string", "enum"):
        return True, ""
    return True, scalar(text, kind, timestamps)


def _header_value(line: str, name: str) -> str:
    rest = line[len(name) :]
    return rest[1:] if rest[:1] in ("\t", " ") else rest


def convert(lines: Iterable[str], timestamps: str = "epoch") -> Iterator[dict[str, JsonValue]]:
    header = Header()
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if not line:
            continue
        if line.startswith("#"):
            if line.startswith("#separator"):
                header.separator = unescape(_header_value(line, "#separator"))
            elif line.startswith("#set_separator"):
                header.set_separator = unescape(_header_value(line, "#set_separator"))
            elif line.startswith("#empty_field"):
                header.empty_field = _header_value(line, "#empty_field")
            elif line.startswith("#unset_field"):
                header.unset_field = _header_value(line, "#unset_field")
            elif line.startswith("#fields"):
                header.fields = line.split(header.separator)[1:]
            elif line.startswith("#types"):
                header.types = line.split(header.separator)[1:]
            continue
        if not header.fields or len(header.fields) != len(header.types):
            raise ZeekTsvError(f"line {number}: a record before the #fields and #types header lines")
        columns = line.split(header.separator)
        if len(columns) != len(header.fields):
            raise ZeekTsvError(
                f"line {number}: {len(columns)} columns, the #fields header names {len(header.fields)}"
            )
        record: dict[str, JsonValue] = {}
        for name, kind, text in zip(header.fields, header.types, columns):
            try:
                present, converted = value(text, kind, header, timestamps)
            except ValueError as exc:
                raise ZeekTsvError(f"line {number}: field {name} ({kind}): {exc}") from None
            if present:
                record[name] = converted
        yield record


def write(records: Iterable[dict[str, JsonValue]], out: IO[str]) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", help="a Zeek TSV log")
    parser.add_argument("output", nargs="?", help="the JSON lines (default: stdout)")
    parser.add_argument("--timestamps", choices=("epoch", "iso8601"), default="epoch")
    args = parser.parse_args(argv)
    try:
        with open(args.input, encoding="utf-8", errors="surrogateescape") as handle:
            records = list(convert(handle, args.timestamps))
    except (OSError, ZeekTsvError) as exc:
        print(f"zeek_tsv_to_json: {args.input}: {exc}", file=sys.stderr)
        return 1
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            write(records, out)
    else:
        write(records, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
