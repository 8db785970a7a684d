"""The expression vocabulary of the mappings: evaluated in Python, rendered to SPL `eval`.

Every construct has one meaning on both sides, so `mobile-ingress --raw` and Splunk's props give
the same fields. Values follow Splunk's search-time JSON fields: a scalar (JSON true/false become
the strings "true"/"false"), a list for an array (a multivalue field), None for absent (and for a
JSON object, which KV_MODE=json does not turn into a field).

`{raw: name}` reads a top-level JSON key from the event text itself (SPL `spath(_raw, ...)`), past
any FIELDALIAS: on a sourcetype another add-on also configures, its aliases run before our EVALs
and may overwrite or remove an extracted field of that name (the Suricata add-on aliases
`dns.tx_id AS tx_id`, which removes `tx_id` from every other EVE event).

Two rules keep the sides equal:
- a function that takes one value (lower, basename, length, tonumber, concat, add) gives None for
  a multivalue field; `first` (SPL `mvindex(x, 0)`) picks its first value and `count`
  (SPL `mvcount(x)`) counts them;
- every expression reads the raw event: Splunk evaluates the EVALs of a stanza in parallel over
  the extracted and aliased fields, never over each other's results, and the loader refuses an
  expression that reads a name an alias of the same mapping writes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Union

Value = Union[str, int, float, "list[str | int | float]", None]

# Splunk field names as KV_MODE=json writes them: `id.orig_h`, `fileinfo.sha256`, `tx_hosts{}`,
# `applicationReports{}.packageName`.
FIELD_NAME = re.compile(r"^[A-Za-z_@][A-Za-z0-9_.@-]*(\{\}(\.[A-Za-z0-9_@-][A-Za-z0-9_.@-]*)?)*$")
_BASENAME = re.compile(r"^.*[/\\]", re.DOTALL)
# The same pattern as an SPL string literal (SPL unescapes `\\` once before the regex sees it).
_SPL_BASENAME = r'"^.*[/\\\\]", ""'
# A MAC address: its separators (`:` `-` `.`, as in AA-BB-CC-DD-EE-FF and aabb.ccdd.eeff) removed,
# it must be twelve hex digits, written in pairs with colons. The same regexes on both sides
# (Python's `$` and PCRE's both match before a final line break).
MAC_SEPARATORS = "[-:.]"
MAC_DIGITS = "^[0-9A-Fa-f]{12}$"
MAC_PAIRS = "^(..)(..)(..)(..)(..)(..)$"
MAC_COLONS = r"\1:\2:\3:\4:\5:\6"


class Func(str, Enum):
    """Functions of one or more expressions."""

    COALESCE = "coalesce"
    LOWER = "lower"
    BASENAME = "basename"
    CONCAT = "concat"
    TONUMBER = "tonumber"
    FIRST = "first"
    COUNT = "count"
    LENGTH = "length"
    ADD = "add"
    MAX = "max"  # the larger of two numbers, either may be absent
    MAC = "mac"  # a MAC address in any common form, as aa:bb:cc:dd:ee:ff


UNARY = frozenset({Func.LOWER, Func.BASENAME, Func.TONUMBER, Func.FIRST, Func.COUNT, Func.LENGTH, Func.MAC})
# The functions that take a multivalue field as it is.
MULTIVALUE = frozenset({Func.FIRST, Func.COUNT})


@dataclass(frozen=True)
class Field:
    name: str


@dataclass(frozen=True)
class Raw:
    """A top-level JSON key read from the event text (SPL spath), not from the extracted fields,
    which another add-on's FIELDALIAS may have changed. `name{}` is its array, multivalue."""

    name: str


@dataclass(frozen=True)
class SplunkField:
    """A field Splunk sets on every event (`host`, `source`, `sourcetype`); the command line
    gives the machine reading the file, the file and the sourcetype."""

    name: str


@dataclass(frozen=True)
class Const:
    value: str | int | float


@dataclass(frozen=True)
class Call:
    func: Func
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class IfPresent:
    field: str
    then: Expr
    otherwise: Expr | None


@dataclass(frozen=True)
class IfContains:
    """`then` when one value of the (multivalue) field is `value` exactly, else `otherwise`: Zeek's
    dhcp.log lists an exchange's message types (`msg_types{}`), and only one with an ACK leased."""

    field: str
    value: str
    then: Expr
    otherwise: Expr | None


@dataclass(frozen=True)
class Map:
    """A value map: the text of `of` looked up in `values` (constants), else `default`."""

    of: Expr
    values: tuple[tuple[str, str], ...]
    default: str | None


@dataclass(frozen=True)
class Switch:
    """Like Map, with an expression per case; a case of None gives no value (SPL `null()`)."""

    on: Expr
    cases: tuple[tuple[str, Expr | None], ...]
    default: Expr | None


Expr = Union[Field, Raw, SplunkField, Const, Call, IfPresent, IfContains, Map, Switch]
SPLUNK_FIELDS = frozenset({"host", "source", "sourcetype"})
# JSON keys named like a Splunk default field: KV_MODE=json cannot be trusted to give them, so SPL
# reads them from the event with spath (Zeek http.log has `host`, files.log `source`).
RESERVED = frozenset({"host", "source", "sourcetype", "index", "linecount", "splunk_server"})
# A `raw` name: one top-level key (spath reads `a.b` as a path, Zeek writes keys with dots), or
# its array.
RAW_NAME = re.compile(r"^[A-Za-z_@][A-Za-z0-9_@-]*(\{\})?$")


def is_reserved(name: str) -> bool:
    return re.split(r"[.{]", name, maxsplit=1)[0] in RESERVED


def is_multivalue(expr: Expr) -> bool:
    """A bare `{}` field (or raw array): the values of a JSON array, multivalue as in Splunk."""
    return isinstance(expr, (Field, Raw)) and "{}" in expr.name


# ------------------------------------------------------------------------------------ fields


def resolve(record: Mapping[str, object], name: str) -> Value:
    """The value of a Splunk JSON field name in a parsed event.

    A dotted name may be one key with dots (Zeek writes `"id.orig_h"`) or a path through nested
    objects (EVE writes `"fileinfo": {"sha256": ...}`); the longest key present wins at each
    level. `{}` walks into an array and makes the result multivalue."""
    if name in record and "{}" not in name:  # the common case: a top-level key, dots and all
        return _scalar(record[name])
    scalars: list[str | int | float] = []
    for found in _walk(record, _split(name)):
        value = _scalar(found)
        if value is not None:
            scalars.append(value)
    if "{}" not in name:
        return scalars[0] if scalars else None
    return scalars or None


@lru_cache(maxsize=1024)
def _split(name: str) -> tuple[str, ...]:
    parts: list[str] = []
    for piece in re.split(r"(\{\})", name):
        if piece == "{}":
            parts.append("{}")
        elif piece:
            parts.extend(p for p in piece.split(".") if p)
    return tuple(parts)


def _walk(node: object, parts: tuple[str, ...]) -> Iterator[object]:
    if not parts:
        yield node
        return
    if parts[0] == "{}":
        if isinstance(node, list):
            for item in node:
                yield from _walk(item, parts[1:])
        return
    if not isinstance(node, Mapping):
        return
    dotted = 0
    while dotted < len(parts) and parts[dotted] != "{}":
        dotted += 1
    for end in range(dotted, 0, -1):
        key = ".".join(parts[:end])
        if key in node:
            yield from _walk(node[key], parts[end:])
            return


def _scalar(value: object) -> str | int | float | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return None  # objects and nested arrays are not fields


def text(value: Value) -> str | None:
    """A scalar as Splunk shows it; None for absent or multivalue."""
    if value is None or isinstance(value, list):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def number(value: Value) -> int | float | None:
    if value is None or isinstance(value, (list, bool)):
        return None
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else None
    try:
        result = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(result):
        return None
    return int(result) if result.is_integer() and abs(result) < 2**53 else result


# -------------------------------------------------------------------------------- evaluation


def evaluate(expr: Expr, record: Mapping[str, object], splunk: Mapping[str, str] | None = None) -> Value:
    """The value of EXPR on a parsed raw event; SPLUNK gives host, source and sourcetype."""
    if isinstance(expr, (Field, Raw)):
        return resolve(record, expr.name)
    if isinstance(expr, SplunkField):
        return (splunk or {}).get(expr.name)
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, IfPresent):
        if resolve(record, expr.field) is not None:
            return evaluate(expr.then, record, splunk)
        return evaluate(expr.otherwise, record, splunk) if expr.otherwise is not None else None
    if isinstance(expr, IfContains):
        found = resolve(record, expr.field)
        values = found if isinstance(found, list) else [found]
        if any(text(v) == expr.value for v in values):
            return evaluate(expr.then, record, splunk)
        return evaluate(expr.otherwise, record, splunk) if expr.otherwise is not None else None
    if isinstance(expr, Map):
        key = text(evaluate(expr.of, record, splunk))
        for match, value in expr.values:
            if key == match:
                return value
        return expr.default
    if isinstance(expr, Switch):
        key = text(evaluate(expr.on, record, splunk))
        for match, branch in expr.cases:
            if key == match:
                return None if branch is None else evaluate(branch, record, splunk)
        return evaluate(expr.default, record, splunk) if expr.default is not None else None
    return _call(expr, record, splunk)


def _call(expr: Call, record: Mapping[str, object], splunk: Mapping[str, str] | None) -> Value:
    func = expr.func
    if func == Func.COALESCE:
        for arg in expr.args:
            value = evaluate(arg, record, splunk)
            if value is not None:
                return value
        return None
    values = [evaluate(arg, record, splunk) for arg in expr.args]
    if func == Func.FIRST:
        value = values[0]
        return value[0] if isinstance(value, list) else value
    if func == Func.COUNT:
        value = values[0]
        return len(value) if isinstance(value, list) else (None if value is None else 1)
    if func == Func.CONCAT:
        parts = [text(v) for v in values]
        return None if any(p is None for p in parts) else "".join(p for p in parts if p is not None)
    if func == Func.ADD:
        numbers = [number(v) for v in values]
        if any(n is None for n in numbers):
            return None
        return sum(n for n in numbers if n is not None)
    if func == Func.MAX:
        present = [n for n in (number(v) for v in values) if n is not None]
        return max(present) if present else None
    if func == Func.TONUMBER:
        return number(values[0])
    single = text(values[0])
    if single is None:
        return None
    if func == Func.LOWER:
        return single.lower()
    if func == Func.BASENAME:
        return _BASENAME.sub("", single)
    if func == Func.MAC:
        return mac_address(single)
    return len(single)  # LENGTH


def mac_address(value: str) -> str | None:
    """`aa:bb:cc:dd:ee:ff` from any common form of a MAC address, None when it is not one."""
    digits = re.sub(MAC_SEPARATORS, "", value)
    if not re.search(MAC_DIGITS, digits):
        return None
    return re.sub(MAC_PAIRS, MAC_COLONS, digits.lower())


def fields_read(expr: Expr) -> Iterator[str]:
    """Every raw field name the expression reads."""
    if isinstance(expr, (Field, Raw)):
        yield expr.name
    elif isinstance(expr, Call):
        for arg in expr.args:
            yield from fields_read(arg)
    elif isinstance(expr, (IfPresent, IfContains)):
        yield expr.field
        yield from fields_read(expr.then)
        if expr.otherwise is not None:
            yield from fields_read(expr.otherwise)
    elif isinstance(expr, Map):
        yield from fields_read(expr.of)
    elif isinstance(expr, Switch):
        yield from fields_read(expr.on)
        for _, branch in expr.cases:
            if branch is not None:
                yield from fields_read(branch)
        if expr.default is not None:
            yield from fields_read(expr.default)


# ------------------------------------------------------------------------------------- SPL


def spl_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def spl_field(name: str) -> str:
    if is_reserved(name):
        return f"spath(_raw, {spl_string(name)})"
    return "'" + name + "'"


def spl_const(value: str | int | float) -> str:
    return spl_string(value) if isinstance(value, str) else repr(value)


def _spl_case(subject: str, branches: list[tuple[str, str]], default: str | None) -> str:
    """`case()` over the subject's values (Map and Switch): each key to its SPL result."""
    parts = [f"{subject}=={spl_string(key)}, {result}" for key, result in branches]
    if default is not None:
        parts.append(f"true(), {default}")
    return f"case({', '.join(parts)})"


def to_spl(expr: Expr) -> str:
    """The `eval` expression with the same meaning."""
    if isinstance(expr, Field):
        return spl_field(expr.name)
    if isinstance(expr, Raw):
        return f"spath(_raw, {spl_string(expr.name)})"
    if isinstance(expr, SplunkField):
        return expr.name
    if isinstance(expr, Const):
        return spl_const(expr.value)
    if isinstance(expr, IfPresent):
        otherwise = to_spl(expr.otherwise) if expr.otherwise is not None else "null()"
        return f"if(isnotnull({spl_field(expr.field)}), {to_spl(expr.then)}, {otherwise})"
    if isinstance(expr, IfContains):
        otherwise = to_spl(expr.otherwise) if expr.otherwise is not None else "null()"
        # mvfind: the index of the first value the regex matches, null when none does (and for a
        # field that is absent); a single value counts as one.
        pattern = spl_string("^" + re.escape(expr.value) + "$")
        return f"if(isnotnull(mvfind({spl_field(expr.field)}, {pattern})), {to_spl(expr.then)}, {otherwise})"
    if isinstance(expr, Map):
        values = [(k, spl_string(v)) for k, v in expr.values]
        default = None if expr.default is None else spl_string(expr.default)
        return _spl_case(to_spl(expr.of), values, default)
    if isinstance(expr, Switch):
        cases = [(k, "null()" if e is None else to_spl(e)) for k, e in expr.cases]
        return _spl_case(to_spl(expr.on), cases, None if expr.default is None else to_spl(expr.default))
    args = [to_spl(a) for a in expr.args]
    func = expr.func
    if func == Func.COALESCE:
        return f"coalesce({', '.join(args)})"
    if func == Func.CONCAT:
        return " . ".join(args)
    if func == Func.ADD:
        return " + ".join(f"tonumber({a})" for a in args)
    if func == Func.MAX:
        # if() and coalesce() only, whose null handling the reference documents: a comparison
        # with a null is not true, so an absent side falls through to the other.
        a, b = (f"tonumber({x})" for x in args)
        return f"coalesce(if({a} >= {b}, {a}, {b}), {a}, {b})"
    if func == Func.FIRST:
        return f"mvindex({args[0]}, 0)"
    if func == Func.COUNT:
        return f"mvcount({args[0]})"
    if func == Func.TONUMBER:
        return f"tonumber({args[0]})"
    if func == Func.LOWER:
        return f"lower({args[0]})"
    if func == Func.BASENAME:
        return f"replace({args[0]}, {_SPL_BASENAME})"
    if func == Func.MAC:
        return mac_spl(args[0])
    return f"len({args[0]})"  # LENGTH


def mac_spl(value: str) -> str:
    """The SPL of `mac_address` on the SPL expression VALUE (replace's `\\1` is PCRE's group 1)."""
    digits = f'replace({value}, {spl_string(MAC_SEPARATORS)}, "")'
    return (
        f"if(match({digits}, {spl_string(MAC_DIGITS)}),"
        f" replace(lower({digits}), {spl_string(MAC_PAIRS)}, {spl_string(MAC_COLONS)}), null())"
    )
