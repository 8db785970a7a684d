"""A small reader of the dashboards' SPL: pipeline stages, subsearches, and the field names a
stage reads or defines.

The dashboards' searches run in the executor over the replay (recording.py), which proves what they
return; this reader is for what execution does not prove: that every field a search reads is a
field of the app, of Splunk or made by the search itself (a misspelled field runs without error and
reads nothing; test_searches.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
AGG = re.compile(r"^(\w+)\((.*)\)$", re.S)
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:]*$")
REX_GROUP = re.compile(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>")
IDENT = re.compile(r"(?<![\w.$'])([A-Za-z_][A-Za-z0-9_]*)(?![\w(])")
EVAL_WORDS = frozenset({"AND", "OR", "NOT", "XOR", "LIKE", "IN", "true", "false", "null"})


def split_top(text: str, separator: str) -> list[str]:
    """Split on `separator` outside quotes, [subsearches] and (parentheses)."""
    parts, depth, quote, current = [], 0, False, []
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            current.append(char)
            if char == "\\" and i + 1 < len(text):
                current.append(text[i + 1])
                i += 1
            elif char == '"':
                quote = False
        elif char == '"':
            quote = True
            current.append(char)
        elif char in "[(":
            depth += 1
            current.append(char)
        elif char in "])":
            depth -= 1
            current.append(char)
        elif depth == 0 and text.startswith(separator, i):
            parts.append("".join(current))
            current = []
            i += len(separator) - 1
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return parts


def stages(spl: str) -> list[tuple[str, str]]:
    """(command, arguments) of each top-level stage; a base search's first stage is `search`."""
    parts = split_top(spl.strip(), "|")
    out = []
    for index, part in enumerate(parts):
        part = part.strip()
        if index == 0:
            if part:
                out.append(("search", part))
            continue
        command, _, rest = part.partition(" ")
        out.append((command.strip().lower(), rest.strip()))
    return out


def subsearches(spl: str) -> list[str]:
    """The text of every [subsearch], nested ones included."""
    found, depth, start, quote = [], 0, 0, False
    for i, char in enumerate(spl):
        if quote:
            if char == '"' and spl[i - 1] != "\\":
                quote = False
            continue
        if char == '"':
            quote = True
        elif char == "[":
            if depth == 0:
                start = i + 1
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                inner = spl[start:i]
                found.append(inner)
                found.extend(subsearches(inner))
    return found


def arg_words(args: str) -> list[str]:
    return [w.strip().strip(",") for w in split_top(args.replace("\n", " "), " ") if w.strip().strip(",")]


def unquote(name: str) -> str:
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name


@dataclass
class Aggregation:
    function: str
    argument: str | None
    alias: str


def aggregations(args: str) -> tuple[list[Aggregation], list[str]]:
    """`count AS a dc(x) AS b ... BY f1 f2` -> aggregations and BY fields (options like span=
    are skipped)."""
    tokens = arg_words(args)
    by: list[str] = []
    if any(t.upper() == "BY" for t in tokens):
        cut = next(i for i, t in enumerate(tokens) if t.upper() == "BY")
        by = [t for t in tokens[cut + 1 :] if "=" not in t]
        tokens = tokens[:cut]
    aggs: list[Aggregation] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if re.match(r"^\w+=", token):
            continue  # an option such as span=1h
        match = AGG.match(token)
        function, argument = (match.group(1), match.group(2)) if match else (token, None)
        alias = f"{function}({argument})" if argument is not None else function
        if i + 1 < len(tokens) and tokens[i].upper() == "AS":
            alias = tokens[i + 1]
            i += 2
        aggs.append(Aggregation(function.lower(), argument, alias))
    return aggs, by


def _tstats_parts(args: str) -> tuple[list[Aggregation], list[str]]:
    """tstats: aggregations before FROM/WHERE, BY fields (span= skipped)."""
    by_match = re.search(r"\bBY\b(.*)$", args, flags=re.I | re.S)
    by = [w for w in arg_words(by_match.group(1)) if "=" not in w] if by_match else []
    head = args[: by_match.start()] if by_match else args
    aggs, _ = aggregations(re.split(r"\b(?:WHERE|FROM)\b", head, maxsplit=1, flags=re.I)[0])
    return aggs, by


def defined_by(command: str, args: str) -> list[str]:
    """Fields a stage creates (eval assignments, rex groups, lookup outputs, stats aliases)."""
    if command == "eval":
        return [
            part.split("=", 1)[0].strip() for part in split_top(args, ",") if "=" in part.split("(", 1)[0]
        ]
    if command == "rex":
        return REX_GROUP.findall(args)
    if command == "lookup":
        match = re.search(r"\bOUTPUT(?:NEW)?\b(.*)$", args, flags=re.S)
        if not match:
            return []
        tokens = arg_words(match.group(1))
        out, i = [], 0
        while i < len(tokens):
            if i + 2 < len(tokens) and tokens[i + 1].upper() == "AS":
                out.append(tokens[i + 2])
                i += 3
            else:
                out.append(tokens[i])
                i += 1
        return out
    if command in ("stats", "eventstats", "timechart"):
        return [a.alias for a in aggregations(args)[0]]
    if command == "tstats":
        return [a.alias for a in _tstats_parts(args)[0]]
    if command == "addinfo":
        return ["info_min_time", "info_max_time", "info_search_time", "info_sid"]
    if command == "makeresults":
        return ["_time"]
    if command == "transpose":
        options = dict(w.split("=", 1) for w in arg_words(args) if "=" in w)
        return [options.get("column_name", "column"), "row 1"]
    return []


def expression_fields(expression: str) -> set[str]:
    """Field names an eval or where expression reads: identifiers outside quotes that are not
    functions, keywords or numbers."""
    text = QUOTED.sub('""', expression)
    return {name for name in IDENT.findall(text) if name not in EVAL_WORDS}


def read_fields(command: str, args: str) -> set[str]:
    """Field names a stage reads (to check they exist), without the names it defines."""
    text = QUOTED.sub('""', args)
    if command in ("table", "fields", "mvexpand", "dedup"):
        return {unquote(w) for w in arg_words(args) if w != "-" and "=" not in w and not w.isdigit()}
    if command == "sort":
        return {w.lstrip("+-") for w in arg_words(args) if w.lstrip("+-") and not w.isdigit()}
    if command in ("stats", "eventstats", "timechart", "tstats"):
        aggs, by = _tstats_parts(args) if command == "tstats" else aggregations(args)
        names = set(by)
        for agg in aggs:
            if agg.argument and agg.argument.startswith("eval("):
                names |= expression_fields(agg.argument[len("eval(") : -1])
            elif agg.argument:
                names.add(agg.argument)
        return names
    if command == "eval":
        names: set[str] = set()
        for part in split_top(args, ","):
            if "=" in part:
                names |= expression_fields(part.split("=", 1)[1])
        return names
    if command == "where":
        return expression_fields(args)
    if command == "rename":
        tokens = [unquote(w) for w in arg_words(args)]
        return {tokens[i] for i in range(0, len(tokens) - 2, 3) if tokens[i + 1].upper() == "AS"} - {"row 1"}
    if command == "rex":
        match = re.search(r"\bfield=(\w+)", text)
        return {match.group(1)} if match else set()
    if command == "lookup":
        head = re.split(r"\bOUTPUT(?:NEW)?\b", args)[0]
        return set(arg_words(head)[1:])
    if command in ("search",):
        return {m for m in re.findall(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)\s*(?:!=|=|\bIN\b)", text)}
    return set()
