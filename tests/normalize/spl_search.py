"""A model of the search pipeline the normalization macros run after the base search.

It runs exactly the commands and options `mobile_ingress_normalize` expands to, over results
that tests/normalize/spl.py made from raw events with the rendered props, each with its
documented semantics (Splunk search reference, 9.4):

- `eval a=X, b=Y`: assignments left to right; a null result removes the field
  (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/eval);
- `mvexpand F`: "for each result with the specified field, create a new result for each value"
  (searchbnf.conf); a result without F is not documented, so the model refuses it;
- `eventstats values(X) AS Y, ... BY K`: each result gets the aggregate of the results with its
  value of K; `values` gives the distinct values in lexicographic order
  (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/statistical-and-charting-functions/multivalue-stats-and-chart-functions);
  a result without K gets no aggregate; a multivalue K has no documented per-result meaning, so
  the model refuses it (the macro expands first);
- `where EXPR`: the results for which EXPR is true; `fields - A B*`: drop fields, `*` wildcards;
- `search *`: every result.

Anything else (a command, an option, a macro it does not know) fails by name: it never guesses.
A result is a dict of field name to its values (a multivalue field has several).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping

from . import spl

Row = dict[str, list[str]]
MACRO = re.compile(r"`([A-Za-z0-9_]+)`")
EVENTSTATS = re.compile(r"^(?P<aggs>.+?) BY (?P<key>[A-Za-z0-9_]+)$")
VALUES = re.compile(r"^values\((?P<field>[A-Za-z0-9_]+)\) AS (?P<name>[A-Za-z0-9_]+)$")


class UnknownSpl(ValueError):
    """SPL the model does not know: the test fails rather than guess its meaning."""


def expand(search: str, macros: Mapping[str, str]) -> str:
    """The search with every `macro` replaced by its definition, recursively."""
    for _ in range(20):
        found = MACRO.search(search)
        if found is None:
            return search
        name = found.group(1)
        if name not in macros:
            raise UnknownSpl(f"macro `{name}` is not defined")
        search = search[: found.start()] + macros[name] + search[found.end() :]
    raise UnknownSpl("macros nest more than 20 deep")


def commands(search: str) -> list[str]:
    """The pipeline's commands: split on `|` outside quoted strings and [subsearches]."""
    out, current, quote, depth = [], [], "", 0
    for char in search:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
            continue
        if char in "\"'":
            quote = char
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "|" and depth == 0:
            out.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    out.append("".join(current).strip())
    return [c for c in out if c]


def values_of(value: spl.Value) -> list[str] | None:
    """An eval result as a field's values; None removes the field."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise UnknownSpl("eval cannot assign a boolean")
    text = spl.as_text(value)
    return [str(v) for v in text] if isinstance(text, list) else [str(text)]


def _eval(rows: list[Row], arguments: str) -> list[Row]:
    assignments = spl.parse_assignments(arguments)
    out = []
    for row in rows:
        row = dict(row)
        for name, node in assignments:
            value = values_of(spl.evaluate(node, row, {}))
            if value is None:
                row.pop(name, None)
            else:
                row[name] = value
        out.append(row)
    return out


def _mvexpand(rows: list[Row], arguments: str) -> list[Row]:
    field = arguments.strip()
    if not re.fullmatch(r"[A-Za-z0-9_]+", field):
        raise UnknownSpl(f"mvexpand {arguments!r}: the model knows `mvexpand FIELD` only")
    out = []
    for row in rows:
        if not row.get(field):
            raise UnknownSpl(f"mvexpand of a result without {field}: not documented")
        out += [{**row, field: [value]} for value in row[field]]
    return out


def _eventstats(rows: list[Row], arguments: str) -> list[Row]:
    found = EVENTSTATS.match(arguments.strip())
    if found is None:
        raise UnknownSpl(f"eventstats {arguments!r}: the model knows `values(X) AS Y, ... BY K` only")
    aggregates = []
    for term in found.group("aggs").split(","):
        value = VALUES.match(term.strip())
        if value is None:
            raise UnknownSpl(f"eventstats: the model knows values() only, not {term.strip()!r}")
        aggregates.append((value.group("field"), value.group("name")))
    key = found.group("key")
    groups: dict[str, list[Row]] = {}
    for row in rows:
        keys = row.get(key)
        if keys and len(keys) > 1:
            raise UnknownSpl(f"eventstats BY a multivalue {key}: no documented meaning per result")
        if keys:
            groups.setdefault(keys[0], []).append(row)
    out = []
    for row in rows:
        row = dict(row)
        members = groups.get(row[key][0], []) if row.get(key) else []
        for field, name in aggregates:
            distinct = sorted({v for member in members for v in member.get(field, [])})
            if distinct:
                row[name] = distinct
        out.append(row)
    return out


def _where(rows: list[Row], arguments: str) -> list[Row]:
    node = spl.parse(arguments)
    return [row for row in rows if spl.evaluate(node, row, {}) is True]


def _fields(rows: list[Row], arguments: str) -> list[Row]:
    words = arguments.split()
    if not words or words[0] != "-":
        raise UnknownSpl(f"fields {arguments!r}: the model knows `fields - NAMES` only")
    patterns = words[1:]
    return [
        {k: v for k, v in row.items() if not any(fnmatch.fnmatchcase(k, p) for p in patterns)}
        for row in rows
    ]


def _search(rows: list[Row], arguments: str) -> list[Row]:
    if arguments.strip() != "*":
        raise UnknownSpl(f"search {arguments!r}: the model knows `search *` only")
    return rows


COMMANDS = {
    "eval": _eval,
    "mvexpand": _mvexpand,
    "eventstats": _eventstats,
    "where": _where,
    "fields": _fields,
    "search": _search,
}


def run(search: str, rows: Iterable[Row], macros: Mapping[str, str]) -> list[Row]:
    """The results of SEARCH (macros expanded) over ROWS."""
    out = [dict(row) for row in rows]
    for command in commands(expand(search, macros)):
        name, _, arguments = command.partition(" ")
        if name not in COMMANDS:
            raise UnknownSpl(f"command {name!r} is not in the model")
        out = COMMANDS[name](out, arguments)
    return out


def row_of(fields: Mapping[str, spl.Value]) -> Row:
    """A props result (tests/normalize/spl.run_stanza) as a search result."""
    out: Row = {}
    for name, value in fields.items():
        values = values_of(value) if not isinstance(value, bool) else None
        if values is not None:
            out[name] = values
    return out
