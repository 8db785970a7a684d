"""stats, eventstats, streamstats and their functions.

Functions (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/statistical-and-charting-functions/...):
- aggregate-functions: count (rows; count(f): rows with f; count(eval(x)): rows where x is true),
  dc (distinct values), min/max (numbers numerically, text by code point, text greater than
  numbers as for eval's min/max), sum, avg (numeric values only);
- multivalue-stats-and-chart-functions: values (distinct, in lexicographic order), list (input
  order, the first [stats] list_maxsize = 100);
- event-order-functions: first/last (first/last non-null value in the order results arrive);
- time-functions: earliest/latest (the value of the result with the smallest/largest `_time`;
  equal times: the first seen).
A multivalue field contributes each value to dc, values, list, min, max, sum, avg.

stats (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/stats):
a result with a null BY field is left out; one row per combination of BY values, ordered by the
BY values (sort's automatic order); no BY: one row, also over no results.
eventstats (.../search-commands/eventstats): adds the group's statistics to each result; results
lacking a BY field are passed on unchanged. Output order is not documented: seeded shuffle.
streamstats (.../search-commands/streamstats): statistics of the results seen so far (current,
window, global, reset_on_change); time_window is refused.
A multivalue BY field is refused: the reference does not say how its values group.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Any

from ..errors import SplError, UnsupportedSpl
from ..evalexpr import EvalContext, Expression, compile_expression
from ..lexer import bracket_end, quote_end
from ..pipeline import ParseContext, Runtime, Table, command
from ..values import auto_key, format_number, to_number, to_text
from .options import boolean, integer

FUNCTIONS = frozenset(
    {
        "count",
        "dc",
        "distinct_count",
        "values",
        "list",
        "min",
        "max",
        "sum",
        "avg",
        "mean",
        "first",
        "last",
        "earliest",
        "latest",
    }
)


@dataclass(frozen=True)
class Agg:
    func: str
    field: str | None
    expression: Expression | None
    name: str


@dataclass
class Spec:
    aggs: list[Agg]
    by: list[str]
    options: dict[str, str]


_OPTION = re.compile(r"\s*([A-Za-z_]+)=(\"(?:[^\"\\]|\\.)*\"|[^\s,]+)")
_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")


def parse_spec(command_name: str, text: str, allowed_options: frozenset[str]) -> Spec:
    """`[opts] agg[(arg)] [AS name] [,] ... [BY f1 [,] f2 ...]`."""
    options: dict[str, str] = {}
    pos = 0
    while True:
        match = _OPTION.match(text, pos)
        if match is None or match.group(1).lower() in ("by", "as"):
            break
        key = match.group(1)
        if key not in allowed_options:
            if key in FUNCTIONS:
                break
            raise UnsupportedSpl(f"option '{key}' of command '{command_name}'")
        value = match.group(2)
        options[key] = value[1:-1] if value.startswith('"') else value
        pos = match.end()
    aggs: list[Agg] = []
    by: list[str] = []
    while pos < len(text):
        while pos < len(text) and (text[pos].isspace() or text[pos] == ","):
            pos += 1
        if pos >= len(text):
            break
        match = _NAME.match(text, pos)
        if match is None:
            raise SplError(f"Error in '{command_name}' command: cannot read {text[pos : pos + 30]!r}")
        word = match.group(1)
        if word.lower() == "by":
            by = [n.strip('"') for n in re.split(r"[\s,]+", text[match.end() :].strip()) if n]
            if not by:
                raise SplError(f"Error in '{command_name}' command: BY needs fields")
            break
        func = word.lower()
        if func not in FUNCTIONS:
            raise UnsupportedSpl(f"{command_name} function {word}()")
        pos = match.end()
        argument = None
        written = word
        if pos < len(text) and text[pos] == "(":
            end = bracket_end(text, pos)
            argument = text[pos + 1 : end - 1].strip()
            written = text[match.start() : end].strip()
            pos = end
        name = written
        as_match = re.match(r"\s+(?:AS|as|As)\s+(\"(?:[^\"\\]|\\.)*\"|[^\s,]+)", text[pos:])
        if as_match is not None:
            name = as_match.group(1)
            if name.startswith('"'):
                name = name[1 : quote_end(name, 0) - 1]
            pos += as_match.end()
        aggs.append(_agg(command_name, func, argument, name))
    if not aggs:
        raise SplError(f"Error in '{command_name}' command: no statistics function")
    return Spec(aggs, by, options)


def _agg(command_name: str, func: str, argument: str | None, name: str) -> Agg:
    func = {"distinct_count": "dc", "mean": "avg"}.get(func, func)
    if argument is None or argument == "":
        if func != "count":
            raise SplError(f"Error in '{command_name}' command: {func} needs a field")
        return Agg("count", None, None, name)
    eval_match = re.fullmatch(r"eval\((.*)\)", argument, re.S)
    if eval_match is not None:
        if name.startswith(f"{func}(eval("):
            raise SplError(
                f"Error in '{command_name}' command: an eval expression in {func}() needs AS <name>"
            )
        return Agg(func, None, compile_expression(eval_match.group(1)), name)
    if "*" in argument or not re.fullmatch(r"[^\s()]+", argument):
        raise UnsupportedSpl(f"{command_name} argument {func}({argument})")
    return Agg(func, argument.strip('"'), None, name)


# ------------------------------------------------------------------------------ accumulators


def _inputs(agg: Agg, row: dict[str, Any], ctx: EvalContext) -> list[Any]:
    if agg.expression is not None:
        value = agg.expression(row, ctx)
        if isinstance(value, bool):
            if agg.func != "count":
                raise SplError(f"{agg.name}: the eval expression gives a Boolean")
            return [True] if value else []
        if value is None:
            return []
        return [v for v in (value if isinstance(value, list) else [value]) if v is not None]
    assert agg.field is not None
    value = row.get(agg.field)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class Acc:
    def __init__(self, agg: Agg, list_max: int) -> None:
        self.agg = agg
        self.list_max = list_max
        self.count = 0
        self.texts: set[str] = set()
        self.items: list[str] = []
        self.numbers: list[int | float] = []
        self.num_best: int | float | None = None
        self.str_best: str | None = None
        self.first: Any = None
        self.last: Any = None
        self.time_best: float | None = None
        self.time_value: Any = None

    def add(self, row: dict[str, Any], ctx: EvalContext) -> None:
        agg = self.agg
        func = agg.func
        if func == "count" and agg.field is None and agg.expression is None:
            self.count += 1
            return
        values = _inputs(agg, row, ctx)
        if not values:
            return
        if func == "count":
            if agg.field is not None and len(values) > 1:
                raise UnsupportedSpl(f"count({agg.field}) on a multivalue field")
            self.count += 1
        elif func in ("dc", "values"):
            self.texts.update(to_text(v) or "" for v in values)
        elif func == "list":
            self.items.extend(to_text(v) or "" for v in values)
        elif func in ("min", "max"):
            for value in values:
                number = to_number(value)
                if number is not None:
                    if self.num_best is None or (
                        number > self.num_best if func == "max" else number < self.num_best
                    ):
                        self.num_best = number
                else:
                    text = to_text(value) or ""
                    if self.str_best is None or (
                        text > self.str_best if func == "max" else text < self.str_best
                    ):
                        self.str_best = text
        elif func in ("sum", "avg"):
            self.numbers.extend(n for n in (to_number(v) for v in values) if n is not None)
        elif func in ("first", "last"):
            value = values[0] if len(values) == 1 else [to_text(v) for v in values]
            if self.count == 0:
                self.first = value
            self.last = value
            self.count += 1
        elif func in ("earliest", "latest"):
            when = to_number(row.get("_time"))
            if when is None:
                raise UnsupportedSpl(f"{func}() over results without _time")
            value = values[0] if len(values) == 1 else [to_text(v) for v in values]
            better = self.time_best is None or (
                when < self.time_best if func == "earliest" else when > self.time_best
            )
            if better:
                self.time_best, self.time_value = when, value

    def result(self) -> Any:
        func = self.agg.func
        if func == "count":
            return str(self.count)
        if func == "dc":
            return str(len(self.texts))
        if func == "values":
            ordered = sorted(self.texts)
            return None if not ordered else ordered[0] if len(ordered) == 1 else ordered
        if func == "list":
            items = self.items[: self.list_max]
            return None if not items else items[0] if len(items) == 1 else items
        if func in ("min", "max"):
            if func == "max":
                return self.str_best if self.str_best is not None else _num(self.num_best)
            return _num(self.num_best) if self.num_best is not None else self.str_best
        if func == "sum":
            return _num(sum(self.numbers)) if self.numbers else None
        if func == "avg":
            return _num(sum(self.numbers) / len(self.numbers)) if self.numbers else None
        if func == "first":
            return _text_value(self.first)
        if func == "last":
            return _text_value(self.last)
        return _text_value(self.time_value)


def _num(value: int | float | None) -> str | None:
    return None if value is None else format_number(value)


def _text_value(value: Any) -> Any:
    if value is None or isinstance(value, list):
        return value
    return to_text(value)


def group_key(row: dict[str, Any], by: list[str]) -> tuple[str, ...] | None:
    """The BY values of a result, or None when one is missing."""
    key = []
    for name in by:
        value = row.get(name)
        if value is None:
            return None
        if isinstance(value, list):
            raise UnsupportedSpl(f"BY on the multivalue field {name}")
        key.append(value)
    return tuple(key)


def sort_groups(keys: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return sorted(keys, key=lambda k: [auto_key(v) for v in k])


# ------------------------------------------------------------------------------ stats


@dataclass
class Stats:
    spec: Spec

    def run(self, table: Table | None, rt: Runtime) -> Table:
        assert table is not None
        by, aggs, ctx = self.spec.by, self.spec.aggs, rt.eval_ctx
        list_max = rt.splunk.limits.list_maxsize
        groups: dict[tuple[str, ...], list[Acc]] = {}
        if not by:
            groups[()] = [Acc(a, list_max) for a in aggs]
        for row in table.rows:
            key = group_key(row, by)
            if key is None:
                continue
            accs = groups.get(key)
            if accs is None:
                accs = groups[key] = [Acc(a, list_max) for a in aggs]
            for acc in accs:
                acc.add(row, ctx)
        rows = []
        for key in sort_groups(list(groups)):
            out: dict[str, Any] = dict(zip(by, key))
            for acc in groups[key]:
                value = acc.result()
                if value is not None:
                    out[acc.agg.name] = value
            rows.append(out)
        return Table(rows, [*by, *[a.name for a in aggs]])


@command("stats")
def parse_stats(args: str, ctx: ParseContext) -> Any:
    spec = parse_spec("stats", args, frozenset())
    return Stats(spec)


@dataclass
class EventStats:
    spec: Spec

    def run(self, table: Table | None, rt: Runtime) -> Table:
        assert table is not None
        by, aggs, ctx = self.spec.by, self.spec.aggs, rt.eval_ctx
        list_max = rt.splunk.limits.list_maxsize
        groups: dict[tuple[str, ...], list[Acc]] = {}
        keys = []
        for row in table.rows:
            key = group_key(row, by)
            keys.append(key)
            if key is None:
                continue
            accs = groups.get(key)
            if accs is None:
                accs = groups[key] = [Acc(a, list_max) for a in aggs]
            for acc in accs:
                acc.add(row, ctx)
        if not by and () not in groups:
            groups[()] = [Acc(a, list_max) for a in aggs]
        results = {key: [(acc.agg.name, acc.result()) for acc in accs] for key, accs in groups.items()}
        for row, key in zip(table.rows, keys):
            if key is None:
                continue
            for name, value in results[key]:
                if value is None:
                    row.pop(name, None)
                else:
                    row[name] = value
        columns = table.columns
        if columns is not None:
            columns = [*columns, *[a.name for a in aggs if a.name not in columns]]
        return Table(rt.shuffled(table.rows), columns, table.events)


@command("eventstats")
def parse_eventstats(args: str, ctx: ParseContext) -> Any:
    return EventStats(parse_spec("eventstats", args, frozenset({"allnum"})))


@dataclass
class StreamStats:
    spec: Spec
    current: bool
    window: int
    global_window: bool
    reset_on_change: bool

    def run(self, table: Table | None, rt: Runtime) -> Table:
        assert table is not None
        by, aggs, ctx = self.spec.by, self.spec.aggs, rt.eval_ctx
        list_max = rt.splunk.limits.list_maxsize
        history: dict[tuple[str, ...], deque[dict[str, Any]]] = {}
        shared: deque[tuple[tuple[str, ...], dict[str, Any]]] = deque()
        running: dict[tuple[str, ...], list[Acc]] = {}
        previous_key: tuple[str, ...] | None = None
        for row in table.rows:
            key = group_key(row, by)
            if key is None:
                continue
            if self.reset_on_change and previous_key is not None and key != previous_key:
                history.clear()
                shared.clear()
                running.clear()
            previous_key = key
            snapshot = dict(row)
            if self.window == 0:
                accs = running.setdefault(key, [Acc(a, list_max) for a in aggs])
                if not self.current:
                    results = [(acc.agg.name, acc.result()) for acc in accs]
                for acc in accs:
                    acc.add(snapshot, ctx)
                if self.current:
                    results = [(acc.agg.name, acc.result()) for acc in accs]
            else:
                if self.global_window and by:
                    seen = [r for k, r in shared if k == key]
                else:
                    seen = list(history.setdefault(key, deque()))
                rows = [*seen, snapshot] if self.current else seen
                accs = [Acc(a, list_max) for a in aggs]
                for item in rows:
                    for acc in accs:
                        acc.add(item, ctx)
                results = [(acc.agg.name, acc.result()) for acc in accs]
                if self.global_window and by:
                    shared.append((key, snapshot))
                    while len(shared) > self.window:
                        shared.popleft()
                else:
                    queue = history[key]
                    queue.append(snapshot)
                    while len(queue) > self.window:
                        queue.popleft()
            for name, value in results:
                if value is None:
                    row.pop(name, None)
                else:
                    row[name] = value
        columns = table.columns
        if columns is not None:
            columns = [*columns, *[a.name for a in aggs if a.name not in columns]]
        return Table(table.rows, columns, table.events)


@command("streamstats")
def parse_streamstats(args: str, ctx: ParseContext) -> Any:
    allowed = frozenset(
        {
            "current",
            "window",
            "global",
            "reset_on_change",
            "time_window",
            "allnum",
            "reset_before",
            "reset_after",
        }
    )
    spec = parse_spec("streamstats", args, allowed)
    for unsupported in ("time_window", "reset_before", "reset_after"):
        if unsupported in spec.options:
            raise UnsupportedSpl(f"option '{unsupported}' of command 'streamstats'")
    window = integer("streamstats", "window", spec.options.get("window"), 0)
    if window < 0 or window > 10000:
        raise SplError(
            "Error in 'streamstats' command: window must be between 0 and max_stream_window (10000)"
        )
    return StreamStats(
        spec,
        boolean("streamstats", "current", spec.options.get("current"), True),
        window,
        boolean("streamstats", "global", spec.options.get("global"), True),
        boolean("streamstats", "reset_on_change", spec.options.get("reset_on_change"), False),
    )
