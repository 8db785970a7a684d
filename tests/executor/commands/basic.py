"""Streaming and ordering commands. Each follows its Search Reference page,
https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/<name>."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import searchexpr
from ..errors import SplError, UnsupportedSpl
from ..evalexpr import Expression, compile_expression, json_document, parse_prefix, pcre, spath_values
from ..evalexpr import compile_node as compile_eval_node
from ..jsonflat import flatten_raw
from ..pipeline import ParseContext, Runtime, Table, command
from ..timeutil import format_time
from ..values import auto_key, to_field, to_number
from .options import Args, boolean, integer

# ============================================================================= search


def _index_patterns(node: searchexpr.SNode) -> list[str]:
    if node.kind == "cmp" and node.field == "index":
        return [node.value]
    if node.kind == "in" and node.field == "index":
        return list(node.values)
    return [p for child in node.children for p in _index_patterns(child)]


def order_events(pairs: list[tuple[float, dict[str, Any]]], rt: Runtime) -> list[dict[str, Any]]:
    """Newest first; events with the same `_time` in a seeded shuffle (Splunk documents no order
    among them)."""
    pairs.sort(key=lambda p: p[0], reverse=True)
    out: list[dict[str, Any]] = []
    i = 0
    while i < len(pairs):
        j = i + 1
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        group = [row for _, row in pairs[i:j]]
        if len(group) > 1:
            rt.rng.shuffle(group)
        out.extend(group)
        i = j
    return out


@dataclass
class EventSearch:
    """The first command of a search: events of the indexes, in the time range, that match.

    Without any `index` term only the default index `main` is searched; `index=*` and other
    wildcards do not reach internal indexes (names starting with `_`) unless the pattern itself
    starts with `_` (search page, "Searching indexes"). Only events indexed by the search's `now`
    are visible. Range: earliest inclusive, latest exclusive."""

    text: str
    node: searchexpr.SNode
    matcher: searchexpr.Matcher

    def run(self, table: Table | None, rt: Runtime) -> Table:
        props = rt.splunk.props
        matcher = self.matcher
        pairs: list[tuple[float, dict[str, Any]]] = []
        for event in visible_events(rt, self.node):
            fields = props.fields(event)
            if matcher(fields):
                # A copy, lists included: later commands change rows, never the cached fields.
                row = {k: list(v) if type(v) is list else v for k, v in fields.items()}
                pairs.append((event.time, row))
        return Table(order_events(pairs, rt), None, events=True)


def visible_events(rt: Runtime, node: searchexpr.SNode) -> Any:
    """Events a search with this expression reads before matching it: in the time range (its
    own time modifiers replace the search's), indexed by `now`, in the indexes it may reach."""
    bounds = searchexpr.time_bounds(node, rt.now)
    earliest = bounds.earliest if "earliest" in bounds.seen else rt.earliest
    latest = bounds.latest if "latest" in bounds.seen else rt.latest
    patterns = _index_patterns(node)
    internal = any(p.startswith("_") for p in patterns)
    now = rt.now
    for event in rt.splunk.store.window(earliest, latest):
        if event.indextime > now:
            continue
        if bounds.index_earliest is not None and event.indextime < bounds.index_earliest:
            continue
        if bounds.index_latest is not None and event.indextime >= bounds.index_latest:
            continue
        if event.index.startswith("_") and not internal:
            continue
        if not patterns and event.index != "main":
            continue
        yield event


@dataclass
class SearchFilter:
    matcher: searchexpr.Matcher

    def run(self, table: Table | None, rt: Runtime) -> Table:
        assert table is not None
        return Table([row for row in table.rows if self.matcher(row)], table.columns, table.events)


@command("search", generating=False)
def parse_search(args: str, ctx: ParseContext) -> Any:
    node, matcher = searchexpr.compile_search(args) if args.strip() else (searchexpr.ALL, lambda row: True)
    if ctx.first:
        return EventSearch(args, node, matcher)
    if searchexpr.time_modifiers(node):
        raise UnsupportedSpl("time modifiers in a search command that is not the first command")
    return SearchFilter(matcher)


# ============================================================================= where / eval


def _boolean(value: Any, where: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    raise SplError(f"Error in '{where}' command: The expression is not a Boolean: {value!r}")


@dataclass
class Where:
    expression: Expression

    def run(self, table: Table | None, rt: Runtime) -> Table:
        assert table is not None
        ctx = rt.eval_ctx
        keep = [row for row in table.rows if _boolean(self.expression(row, ctx), "where")]
        return Table(keep, table.columns, table.events)


@command("where")
def parse_where(args: str, ctx: ParseContext) -> Any:
    return Where(compile_expression(args))


_TARGET = re.compile(r"\s*(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"|([^\s=,'\"()]+))\s*=(?!=)")


def parse_assignments(text: str, command_name: str) -> list[tuple[str, Expression]]:
    out = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TARGET.match(text, pos)
        if match is None:
            raise SplError(
                f"Error in '{command_name}' command: expected 'field=expression' at {text[pos : pos + 40]!r}"
            )
        name = match.group(1) or match.group(2) or match.group(3)
        node, end = parse_prefix(text, match.end())
        expression = Expression(text[match.end() : end].strip(), node, compile_eval_node(node))
        out.append((name, expression))
        pos = end + 1
    if not out:
        raise SplError(f"Error in '{command_name}' command: The expression is malformed.")
    return out


@dataclass
class Eval:
    assignments: list[tuple[str, Expression]]

    def run(self, table: Table | None, rt: Runtime) -> Table:
        assert table is not None
        ctx = rt.eval_ctx
        columns = list(table.columns) if table.columns is not None else None
        for row in table.rows:
            for name, expression in self.assignments:
                value = to_field(expression(row, ctx))
                if value is None:
                    row.pop(name, None)
                else:
                    row[name] = value
        if columns is not None:
            columns.extend(n for n, _ in self.assignments if n not in columns)
        return Table(table.rows, columns, table.events)


@command("eval")
def parse_eval(args: str, ctx: ParseContext) -> Any:
    return Eval(parse_assignments(args, "eval"))


# ============================================================================= fields / table


def _wild(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(p) for p in pattern.split("*")), re.S)


def _expand(patterns: list[str], names: list[str]) -> list[str]:
    out: list[str] = []
    for pattern in patterns:
        if "*" in pattern:
            regex = _wild(pattern)
            out.extend(n for n in names if regex.fullmatch(n) and n not in out)
        elif pattern not in out:
            out.append(pattern)
    return out


@dataclass
class Fields:
    remove: bool
    patterns: list[str]

    def run(self, table: Table | None, rt: Runtime) -> Table:
        assert table is not None
        names = table.field_order()
        selected = _expand(self.patterns, names)
        if self.remove:
            drop = set(selected)
            rows = [{k: v for k, v in row.items() if k not in drop} for row in table.rows]
            columns = [c for c in table.columns if c not in drop] if table.columns is not None else None
            return Table(rows, columns, table.events)
        keep = set(selected)
        # Internal fields (`_raw`, `_time`, ...) stay unless removed with `fields - _*`.
        rows = [{k: v for k, v in row.items() if k in keep or k.startswith("_")} for row in table.rows]
        return Table(rows, [n for n in selected if not n.startswith("_") or n in keep], table.events)


@command("fields")
def parse_fields(args: str, ctx: ParseContext) -> Any:
    text = args.strip()
    remove = False
    if text.startswith("-"):
        remove, text = True, text[1:]
    elif text.startswith("+"):
        text = text[1:]
    patterns = Args("fields", text).names()
    if not patterns:
        raise SplError("Error in 'fields' command: no fields given")
    return Fields(remove, patterns)


@dataclass
class TableCommand:
    patterns: list[str]

    def run(self, table: Table | None, rt: Runtime) -> Table:
        assert table is not None
        selected = _expand(self.patterns, table.field_order())
        rows = [{n: row[n] for n in selected if n in row} for row in table.rows]
        return Table(rows, selected, events=False)


@command("table")
def parse_table(args: str, ctx: ParseContext) -> Any:
    patterns = Args("table", args).names()
    if not patterns:
        raise SplError("Error in 'table' command: no fields given")
    return TableCommand(patterns)


@dataclass
class Rename:
    pairs: list[tuple[str, str]]

    def run(self, table: Table | None, rt: Runtime) -> Table:
        """A renamed field replaces the target column: rows without the source lose the target
        (the rename page documents renaming a field, not a per-row merge)."""
        assert table is not None
        columns = list(table.columns) if table.columns is not None else None
        for source, target in self.pairs:
            for row in table.rows:
                if source in row:
                    row[target] = row.pop(source)
                else:
                    row.pop(target, None)
            if columns is not None:
                columns = [target if c == source else c for c in columns if c != target]
        return Table(table.rows, columns, table.events)


@command("rename")
def parse_rename(args: str, ctx: ParseContext) -> Any:
    parsed = Args("rename", args)
    pairs = []
    while not parsed.done():
        source = parsed.take()
        keyword = parsed.take()
        target = parsed.take()
        if (
            not keyword.is_word("as")
            or source.kind not in ("word", "quoted")
            or target.kind not in ("word", "quoted")
        ):
            raise SplError(f"Error in 'rename' command: expected 'field AS newname' in {args!r}")
        if "*" in source.value or "*" in target.value:
            raise UnsupportedSpl("rename with wildcards")
        pairs.append((source.value, target.value))
        nxt = parsed.peek()
        if nxt is not None and nxt.kind == "op" and nxt.text == ",":
            parsed.take()
    if not pairs:
        raise SplError("Error in 'rename' command: nothing to rename")
    return Rename(pairs)


@dataclass
class FillNull:
    value: str
    names: list[str]

    def run(self, table: Table | None, rt: Runtime) -> Table:
        """Missing or empty fields get the value; without a list, every field of any result
        (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/fillnull)."""
        assert table is not None
        names = self.names or [n for n in table.field_order() if not n.startswith("_")]
        for row in table.rows:
            for name in names:
                if row.get(name) in (None, ""):
                    row[name] = self.value
        return Table(table.rows, table.columns, table.events)


@command("fillnull")
def parse_fillnull(args: str, ctx: ParseContext) -> Any:
    parsed = Args("fillnull", args)
    options = parsed.options(["value"])
    return FillNull(options.get("value", "0"), parsed.names())


# ============================================================================= head / sort / dedup


@dataclass
class Head:
    count: int

    def run(self, table: Table | None, rt: Runtime) -> Table:
        assert table is not None
        return Table(table.rows[: self.count], table.columns, table.events)


@command("head")
def parse_head(args: str, ctx: ParseContext) -> Any:
    parsed = Args("head", args)
    options = parsed.options(["limit"])
    count = integer("head", "limit", options.get("limit"), 10)
    if not parsed.done():
        token = parsed.take()
        if token.kind != "word" or not token.text.isdigit():
            raise UnsupportedSpl(f"head with an expression ({args.strip()})")
        count = int(token.text)
    parsed.expect_end()
    return Head(count)


@dataclass
class SortKey:
    field: str
    descending: bool
    kind: str  # auto, str, num, ip


def _sort_value(value: Any, key: SortKey) -> Any:
    if isinstance(value, list):
        raise UnsupportedSpl(f"sort on the multivalue field {key.field}")
    if key.kind == "str":
        return (1, value)
    if key.kind == "num":
        number = to_number(value)
        return (0, number) if number is not None else (1, value)
    if key.kind == "ip":
        parts = value.split(".")
        if len(parts) == 4 and all(p.isdigit() for p in parts):
            return (0, tuple(int(p) for p in parts))
        return (1, value)
    return auto_key(value)


@dataclass
class Sort:
    limit: int
    keys: list[SortKey]
    reverse_all: bool

    def run(self, table: Table | None, rt: Runtime) -> Table:
        """Missing fields sort last in either direction; equal keys in a seeded shuffle (no
        documented tie order); default limit 10000, 0 = all (sort page)."""
        assert table is not None
        rows = rt.shuffled(table.rows)
        for key in reversed(self.keys):
            descending = key.descending != self.reverse_all
            present = [r for r in rows if r.get(key.field) is not None]
            missing = [r for r in rows if r.get(key.field) is None]
            present.sort(key=lambda r, k=key: _sort_value(r[k.field], k), reverse=descending)
            rows = present + missing
        if self.limit > 0:
            rows = rows[: self.limit]
        return Table(rows, table.columns, table.events)


@command("sort")
def parse_sort(args: str, ctx: ParseContext) -> Any:
    parsed = Args("sort", args)
    limit = 10000
    options = parsed.options(["limit"])
    if "limit" in options:
        limit = integer("sort", "limit", options["limit"], 10000)
    token = parsed.peek()
    if token is not None and token.kind == "word" and token.text.isdigit():
        limit = int(parsed.take().text)
    keys: list[SortKey] = []
    reverse_all = False
    direction: bool | None = None
    while not parsed.done():
        token = parsed.take()
        if token.kind == "op" and token.text == ",":
            continue
        if token.kind != "word" and token.kind != "quoted":
            raise SplError(f"Error in 'sort' command: unexpected {token.text!r}")
        text = token.value
        if token.kind == "word" and text in ("-", "+"):
            direction = text == "-"
            continue
        if token.kind == "word" and text in ("d", "desc") and parsed.done() and keys:
            reverse_all = True
            continue
        descending = direction if direction is not None else False
        direction = None
        if token.kind == "word" and text[:1] in ("-", "+"):
            descending, text = text[0] == "-", text[1:]
        kind = "auto"
        nxt = parsed.peek()
        if token.kind == "word" and nxt is not None and nxt.kind == "op" and nxt.text == "(":
            if text not in ("auto", "str", "num", "ip"):
                raise UnsupportedSpl(f"sort function {text}()")
            parsed.take()
            kind = text
            text = parsed.take().value
            if parsed.take().text != ")":
                raise SplError("Error in 'sort' command: unbalanced parentheses")
        keys.append(SortKey(text, descending, kind))
    if not keys:
        raise SplError("Error in 'sort' command: no sort fields")
    return Sort(limit, keys, reverse_all)


@dataclass
class Dedup:
    count: int
    fields: list[str]
    keepempty: bool
    consecutive: bool

    def run(self, table: Table | None, rt: Runtime) -> Table:
        """The first `count` results for each combination of values; results missing a field are
        dropped unless keepempty=true (dedup page)."""
        assert table is not None
        seen: dict[tuple[str, ...], int] = {}
        previous: tuple[str, ...] | None = None
        out = []
        for row in table.rows:
            values = []
            for name in self.fields:
                value = row.get(name)
                if isinstance(value, list):
                    raise UnsupportedSpl(f"dedup on the multivalue field {name}")
                values.append(value)
            if any(v is None for v in values):
                if self.keepempty:
                    out.append(row)
                continue
            key = tuple(values)  # type: ignore[arg-type]
            if self.consecutive:
                if key != previous:
                    out.append(row)
                previous = key
                continue
            seen[key] = seen.get(key, 0) + 1
            if seen[key] <= self.count:
                out.append(row)
        return Table(out, table.columns, table.events)


@command("dedup")
def parse_dedup(args: str, ctx: ParseContext) -> Any:
    parsed = Args("dedup", args)
    count = 1
    token = parsed.peek()
    if token is not None and token.kind == "word" and token.text.isdigit():
        count = int(parsed.take().text)
    names: list[str] = []
    options: dict[str, str] = {}
    while not parsed.done():
        if parsed.at_option():
            options.update(parsed.options(["keepempty", "consecutive", "keepevents"]))
            continue
        token = parsed.take()
        if token.is_word("sortby"):
            raise UnsupportedSpl("dedup sortby")
        if token.kind == "op" and token.text == ",":
            continue
        names.append(token.value)
    if not names:
        raise SplError("Error in 'dedup' command: no fields given")
    if boolean("dedup", "keepevents", options.get("keepevents"), False):
        raise UnsupportedSpl("dedup keepevents=true")
    return Dedup(
        count,
        names,
        boolean("dedup", "keepempty", options.get("keepempty"), False),
        boolean("dedup", "consecutive", options.get("consecutive"), False),
    )


# ============================================================================= mvexpand


@dataclass
class MvExpand:
    field: str
    limit: int

    def run(self, table: Table | None, rt: Runtime) -> Table:
        """One result per value (limit: the first N values). A result without the field yields
        no result: the reference is silent, and this is Splunk's behaviour as its community
        documents it (README, "Choices where the reference is silent")."""
        assert table is not None
        out = []
        for row in table.rows:
            value = row.get(self.field)
            if value is None:
                continue
            values = value if isinstance(value, list) else [value]
            if self.limit > 0:
                values = values[: self.limit]
            for item in values:
                copy = dict(row)
                copy[self.field] = item
                out.append(copy)
        return Table(out, table.columns, table.events)


@command("mvexpand")
def parse_mvexpand(args: str, ctx: ParseContext) -> Any:
    names, options = Args("mvexpand", args).names_and_options(["limit"])
    if len(names) != 1:
        raise SplError("Error in 'mvexpand' command: exactly one field is expected")
    if names[0].startswith("_"):
        raise SplError("Error in 'mvexpand' command: cannot be applied to internal fields")
    return MvExpand(names[0], integer("mvexpand", "limit", options.get("limit"), 0))


# ============================================================================= rex / spath


@dataclass
class Rex:
    field: str
    pattern: re.Pattern[str]
    max_match: int

    def run(self, table: Table | None, rt: Runtime) -> Table:
        """Named groups become fields; no match leaves the result as it is; max_match>1 (0 =
        unlimited) gives multivalue fields (rex page)."""
        assert table is not None
        names = list(self.pattern.groupindex)
        for row in table.rows:
            value = row.get(self.field)
            if value is None:
                continue
            if isinstance(value, list):
                raise UnsupportedSpl(f"rex on the multivalue field {self.field}")
            matches = []
            for match in self.pattern.finditer(value):
                matches.append(match)
                if self.max_match > 0 and len(matches) >= self.max_match:
                    break
            if not matches:
                continue
            for name in names:
                found = [m.group(name) for m in matches if m.group(name) is not None]
                if found:
                    row[name] = found[0] if len(found) == 1 else found
        return Table(table.rows, table.columns, table.events)


@command("rex")
def parse_rex(args: str, ctx: ParseContext) -> Any:
    parsed = Args("rex", args)
    options = parsed.options(["field", "max_match", "mode", "offset_field"])
    if "mode" in options or "offset_field" in options:
        raise UnsupportedSpl("rex mode=sed / offset_field")
    token = parsed.take()
    if token.kind != "quoted":
        raise SplError("Error in 'rex' command: the regular expression must be quoted")
    options.update(parsed.options(["field", "max_match"]))
    parsed.expect_end()
    pattern = pcre(token.value)
    if not pattern.groupindex:
        raise SplError("Error in 'rex' command: The regex does not extract anything (no named groups)")
    return Rex(
        options.get("field", "_raw"), pattern, integer("rex", "max_match", options.get("max_match"), 1)
    )


@dataclass
class Spath:
    input: str
    path: str | None
    output: str | None

    def run(self, table: Table | None, rt: Runtime) -> Table:
        """With a path: its values (multivalue when several) into `output` (default: the path);
        a path that finds nothing leaves the result as it is. Without a path: every field, with
        the extraction cutoff of automatic extraction (spath page; limits.conf [spath])."""
        assert table is not None
        limits = rt.splunk.limits
        for row in table.rows:
            value = row.get(self.input)
            if value is None:
                continue
            if isinstance(value, list):
                raise UnsupportedSpl(f"spath input={self.input} on a multivalue field")
            if self.path is None:
                for name, values in flatten_raw(value, limits.spath_extraction_cutoff, 0).items():
                    row[name] = values[0] if len(values) == 1 else values
                continue
            values = spath_values(json_document(value, rt.eval_ctx), self.path)
            if values:
                row[self.output or self.path] = values[0] if len(values) == 1 else values
        return Table(table.rows, table.columns, table.events)


@command("spath")
def parse_spath(args: str, ctx: ParseContext) -> Any:
    parsed = Args("spath", args)
    options: dict[str, str] = {}
    path = None
    while not parsed.done():
        if parsed.at_option():
            options.update(parsed.options(["input", "path", "output"]))
            continue
        token = parsed.take()
        if path is not None:
            raise SplError(f"Error in 'spath' command: unexpected {token.text!r}")
        path = token.value
    path = options.get("path", path)
    if path is None and "output" in options:
        raise SplError("Error in 'spath' command: output= needs a path")
    return Spath(options.get("input", "_raw"), path, options.get("output"))


# ============================================================================= addinfo / makeresults


def info_fields(rt: Runtime) -> dict[str, str]:
    """addinfo: the search's time range and identity; all time: 0 and +Infinity
    (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/addinfo)."""
    return {
        "info_min_time": f"{rt.earliest:.3f}" if rt.earliest is not None else "0.000",
        "info_max_time": f"{rt.latest:.3f}" if rt.latest is not None else "+Infinity",
        "info_search_time": f"{rt.now:.3f}",
        "info_sid": rt.sid,
    }


@dataclass
class AddInfo:
    def run(self, table: Table | None, rt: Runtime) -> Table:
        assert table is not None
        info = info_fields(rt)
        for row in table.rows:
            row.update(info)
        return Table(table.rows, table.columns, table.events)


@command("addinfo")
def parse_addinfo(args: str, ctx: ParseContext) -> Any:
    if args.strip():
        raise UnsupportedSpl(f"addinfo arguments ({args.strip()})")
    return AddInfo()


@dataclass
class MakeResults:
    count: int

    def run(self, table: Table | None, rt: Runtime) -> Table:
        return Table([{"_time": format_time(int(rt.now))} for _ in range(self.count)], None)


@command("makeresults", generating=True)
def parse_makeresults(args: str, ctx: ParseContext) -> Any:
    parsed = Args("makeresults", args)
    options = parsed.options(["count"])
    parsed.expect_end()
    return MakeResults(integer("makeresults", "count", options.get("count"), 1))


# ============================================================================= transpose


@dataclass
class Transpose:
    count: int
    column_name: str
    header_field: str | None
    include_empty: bool

    def run(self, table: Table | None, rt: Runtime) -> Table:
        """Each input result becomes a column (`row 1`, `row 2`, ... or the header field's
        values), each field a result named in `column_name` (transpose page; default 5 rows)."""
        assert table is not None
        rows = table.rows if self.count == 0 else table.rows[: self.count]
        names = [n for n in table.field_order() if n != self.header_field]
        if any(n.startswith("_") for n in names):
            raise UnsupportedSpl("transpose of internal fields (how Splunk treats them is not documented)")
        headers = []
        for index, row in enumerate(rows):
            if self.header_field is not None and isinstance(row.get(self.header_field), str):
                headers.append(row[self.header_field])
            else:
                headers.append(f"row {index + 1}")
        out = []
        for name in names:
            result: dict[str, Any] = {self.column_name: name}
            for header, row in zip(headers, rows):
                if name in row:
                    result[header] = row[name]
            if len(result) == 1 and not self.include_empty:
                continue
            out.append(result)
        return Table(out, [self.column_name, *headers])


@command("transpose")
def parse_transpose(args: str, ctx: ParseContext) -> Any:
    parsed = Args("transpose", args)
    count = 5
    options: dict[str, str] = {}
    while not parsed.done():
        if parsed.at_option():
            options.update(parsed.options(["column_name", "header_field", "include_empty"]))
            continue
        token = parsed.take()
        if token.kind == "word" and token.text.isdigit():
            count = int(token.text)
        else:
            raise SplError(f"Error in 'transpose' command: unexpected {token.text!r}")
    return Transpose(
        count,
        options.get("column_name", "column"),
        options.get("header_field"),
        boolean("transpose", "include_empty", options.get("include_empty"), True),
    )
