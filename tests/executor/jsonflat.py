"""JSON as Splunk's automatic extraction and `spath` flatten it: nested keys joined with `.`,
array elements under `name{}` (a multivalue field when several), numbers as their JSON text,
true/false as text, JSON null skipped (as tests/normalize/spl.py models it; see README).

Limits of automatic extraction (KV_MODE=json), from limits.conf.spec:
- [spath] extraction_cutoff (5000): "applies extraction only to the first <integer> number of
  bytes ... both the auto kv extraction and the spath command" (extract-all mode);
- [kv] limit (100): "the maximum number of fields that an automatic key-value field extraction
  (auto kv) can generate"; fields are kept in the order they appear in the event (Knowledge
  Manager Manual, "Configure automatic key-value field extraction": "in the order that it finds
  them in events").
A field whose value is not complete inside the cutoff is not extracted.
"""

from __future__ import annotations

import json
from typing import Any


class JsonNumber(str):
    """A JSON number kept as its text (Splunk shows `1.50` as `1.50`, not `1.5`)."""


def loads(text: str) -> Any:
    return json.loads(text, parse_int=JsonNumber, parse_float=JsonNumber, parse_constant=JsonNumber)


def dumps(value: Any) -> str:
    """Compact JSON with JsonNumber written as a number."""
    if isinstance(value, JsonNumber):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return (
        "{"
        + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + dumps(v) for k, v in value.items())
        + "}"
    )


def leaf_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return None


def _walk(value: Any, prefix: str, out: dict[str, list[str]]) -> None:
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            name = f"{prefix}.{key}" if prefix else key
            item_kind = type(item)
            if item_kind is str or item_kind is JsonNumber:
                found = out.get(name)
                if found is None:
                    out[name] = [str(item)]
                else:
                    found.append(str(item))
            else:
                _walk(item, name, out)
    elif kind is list:
        name = prefix + "{}"
        for item in value:
            _walk(item, name, out)
    else:
        text = leaf_text(value)
        if text is not None and prefix:
            out.setdefault(prefix, []).append(text)


def flatten_document(doc: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(doc, (dict, list)):
        _walk(doc, "", out)
    return out


class _Truncated(Exception):
    pass


class _PrefixParser:
    """Reads leaves from the start of a JSON text that may be cut anywhere; every leaf completed
    before the cut is kept, in document order."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.out: dict[str, list[str]] = {}

    def ws(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t\r\n":
            self.i += 1
        if self.i >= len(self.text):
            raise _Truncated

    def value(self, prefix: str) -> None:
        self.ws()
        char = self.text[self.i]
        if char == "{":
            self.i += 1
            self.ws()
            if self.text[self.i] == "}":
                self.i += 1
                return
            while True:
                self.ws()
                key = self.string()
                self.ws()
                if self.text[self.i] != ":":
                    raise ValueError("expected ':'")
                self.i += 1
                self.value(f"{prefix}.{key}" if prefix else key)
                self.ws()
                if self.text[self.i] == ",":
                    self.i += 1
                    continue
                if self.text[self.i] == "}":
                    self.i += 1
                    return
                raise ValueError("expected ',' or '}'")
        if char == "[":
            self.i += 1
            self.ws()
            if self.text[self.i] == "]":
                self.i += 1
                return
            while True:
                self.value(prefix + "{}")
                self.ws()
                if self.text[self.i] == ",":
                    self.i += 1
                    continue
                if self.text[self.i] == "]":
                    self.i += 1
                    return
                raise ValueError("expected ',' or ']'")
        if char == '"':
            self.leaf(prefix, self.string())
            return
        start = self.i
        while self.i < len(self.text) and self.text[self.i] not in ",]} \t\r\n":
            self.i += 1
        if self.i >= len(self.text):
            raise _Truncated  # a number or literal may continue past the cut
        token = self.text[start : self.i]
        if token == "null":
            return
        if token in ("true", "false"):
            self.leaf(prefix, token)
            return
        loads(token)  # a ValueError for anything that is not a number
        self.leaf(prefix, token)

    def string(self) -> str:
        if self.text[self.i] != '"':
            raise ValueError("expected a string")
        end = self.i + 1
        while True:
            if end >= len(self.text):
                raise _Truncated
            char = self.text[end]
            if char == "\\":
                end += 2
                continue
            if char == '"':
                break
            end += 1
        literal = self.text[self.i : end + 1]
        self.i = end + 1
        return json.loads(literal)

    def leaf(self, prefix: str, text: str) -> None:
        if prefix:
            self.out.setdefault(prefix, []).append(text)


def flatten_raw(raw: str, cutoff_bytes: int = 5000, field_limit: int = 100) -> dict[str, list[str]]:
    """Automatic JSON extraction of an event (KV_MODE=json) with both limits. Text that is not a
    JSON object or array yields nothing."""
    stripped = raw.lstrip()
    if not stripped.startswith(("{", "[")):
        return {}
    data = raw.encode("utf-8")
    if cutoff_bytes <= 0 or len(data) <= cutoff_bytes:
        try:
            out = flatten_document(loads(raw))
        except ValueError:
            return {}
    else:
        parser = _PrefixParser(data[:cutoff_bytes].decode("utf-8", errors="ignore"))
        try:
            parser.value("")
        except _Truncated:
            pass
        except (ValueError, IndexError):
            return {}
        out = parser.out
    if field_limit > 0 and len(out) > field_limit:
        out = dict(list(out.items())[:field_limit])
    return out
