"""timechart and tstats (with CIM data models).

timechart (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/timechart):
`span=` buckets aligned on multiples of the span (UTC); cont=true (default) fills every bucket of
the search's time range (of the data's range over all time); with BY, at most `limit` (default
10, 0 = all) series, the ones with the largest totals of the function, the rest in `OTHER`
(useother, default true) and results without the BY field in `NULL` (usenull, default true).
Empty cells: 0 for count and dc, no value for other functions. Not documented, chosen here:
series columns in lexicographic order, then NULL, then OTHER; equal totals ranked by name.
A timechart without span= (automatic span) is refused.

tstats (.../search-commands/tstats): statistics over indexed fields only: WHERE and BY may name
index, sourcetype, source, host (and _time in BY, with span=); any other field is refused.
`FROM datamodel=<Model>.<Dataset>` restricts the events to those matching the data set's
constraint search and its parents' (CIM data model JSON vendored from pytest-splunk-addon 6.4.0,
tests/data/executor/datamodels); the constraint's tags come from the app's eventtypes.conf and
tags.conf. Rows are ordered by the BY values.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from .. import searchexpr
from ..errors import SplError, UnsupportedSpl
from ..lexer import quote_end, split_top
from ..limits import DATA
from ..pipeline import ParseContext, Runtime, Table, command
from ..timeutil import _SECONDS, _UNITS, format_time
from ..values import to_number
from .basic import visible_events
from .options import boolean
from .stats import Acc, Agg, group_key, parse_spec, sort_groups

INDEXED = frozenset({"index", "sourcetype", "source", "host"})


def span_seconds(text: str, command_name: str) -> int:
    match = re.fullmatch(r"(\d+)([a-zA-Z]+)", text.strip())
    if match is None:
        raise SplError(f"Error in '{command_name}' command: invalid span {text!r}")
    unit = _UNITS.get(match.group(2))
    if unit not in _SECONDS:
        raise UnsupportedSpl(f"{command_name} span={text} (calendar spans are not modelled)")
    return int(match.group(1)) * _SECONDS[unit]


def _bucket(t: float, span: int) -> int:
    return int(math.floor(t / span) * span)


# ================================================================================ timechart


@dataclass
class Timechart:
    aggs: list[Agg]
    by: str | None
    span: int
    limit: int
    useother: bool
    usenull: bool
    cont: bool
    otherstr: str
    nullstr: str

    def run(self, table: Table | None, rt: Runtime) -> Table:
        assert table is not None
        ctx = rt.eval_ctx
        list_max = rt.splunk.limits.list_maxsize
        cells: dict[tuple[int, str], list[Acc]] = {}
        series_rows: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        buckets: set[int] = set()
        for row in table.rows:
            when = to_number(row.get("_time"))
            if when is None:
                continue
            bucket = _bucket(float(when), self.span)
            buckets.add(bucket)
            series = ""
            if self.by is not None:
                value = row.get(self.by)
                if isinstance(value, list):
                    raise UnsupportedSpl(f"timechart BY the multivalue field {self.by}")
                if value is None:
                    if not self.usenull:
                        continue
                    value = self.nullstr
                series = value
            series_rows.setdefault(series, []).append((bucket, row))
        if self.cont and rt.earliest is not None and rt.latest is not None:
            first, last = (
                _bucket(rt.earliest, self.span),
                _bucket(max(rt.earliest, rt.latest - 1e-6), self.span),
            )
            all_buckets = list(range(first, last + 1, self.span))
        elif self.cont and buckets:
            all_buckets = list(range(min(buckets), max(buckets) + 1, self.span))
        else:
            all_buckets = sorted(buckets)
        names = [a.name for a in self.aggs]
        if self.by is None:
            for bucket, row in series_rows.get("", []):
                accs = cells.setdefault((bucket, ""), [Acc(a, list_max) for a in self.aggs])
                for acc in accs:
                    acc.add(row, ctx)
            rows = []
            for bucket in all_buckets:
                out: dict[str, Any] = {"_time": format_time(bucket)}
                accs = cells.get((bucket, ""))
                for index, agg in enumerate(self.aggs):
                    value = accs[index].result() if accs else _empty(agg)
                    if value is not None:
                        out[agg.name] = value
                rows.append(out)
            return Table(rows, ["_time", *names])
        (agg,) = self.aggs
        totals: dict[str, float] = {}
        for series, items in series_rows.items():
            for bucket, row in items:
                acc = cells.setdefault((bucket, series), [Acc(agg, list_max)])[0]
                acc.add(row, ctx)
        for (_, series), accs in cells.items():
            totals[series] = totals.get(series, 0.0) + float(to_number(accs[0].result()) or 0)
        regular = [s for s in series_rows if s != self.nullstr or not self.usenull]
        ranked = sorted(regular, key=lambda s: (-totals.get(s, 0.0), s))
        kept = ranked if self.limit == 0 else ranked[: self.limit]
        other = [s for s in regular if s not in kept]
        columns = sorted(kept)
        if self.usenull and self.nullstr in series_rows:
            columns.append(self.nullstr)
        other_cells: dict[int, Acc] = {}
        if other and self.useother:
            columns.append(self.otherstr)
            for series in other:
                for bucket, row in series_rows[series]:
                    other_cells.setdefault(bucket, Acc(agg, list_max)).add(row, ctx)
        rows = []
        for bucket in all_buckets:
            out = {"_time": format_time(bucket)}
            for column in columns:
                if column == self.otherstr and other and self.useother:
                    acc = other_cells.get(bucket)
                    value = acc.result() if acc is not None else _empty(agg)
                else:
                    accs = cells.get((bucket, column))
                    value = accs[0].result() if accs else _empty(agg)
                if value is not None:
                    out[column] = value
            rows.append(out)
        return Table(rows, ["_time", *columns])


def _empty(agg: Agg) -> str | None:
    return "0" if agg.func in ("count", "dc") else None


TIMECHART_OPTIONS = frozenset(
    {
        "span",
        "limit",
        "useother",
        "usenull",
        "cont",
        "otherstr",
        "nullstr",
        "bins",
        "minspan",
        "fixedrange",
        "partial",
        "format",
        "sep",
        "agg",
    }
)


@command("timechart")
def parse_timechart(args: str, ctx: ParseContext) -> Any:
    spec = parse_spec("timechart", args, TIMECHART_OPTIONS)
    options = dict(spec.options)
    by: list[str] = []
    for item in spec.by:
        key, sep, value = item.partition("=")
        if sep:
            if key not in TIMECHART_OPTIONS:
                raise UnsupportedSpl(f"option '{key}' of command 'timechart'")
            options[key] = value.strip('"')
        else:
            by.append(item)
    for unsupported in ("bins", "minspan", "fixedrange", "partial", "format", "sep", "agg"):
        if unsupported in options:
            raise UnsupportedSpl(f"option '{unsupported}' of command 'timechart'")
    if "span" not in options:
        raise UnsupportedSpl("timechart without span= (automatic spans are not modelled)")
    if len(by) > 1:
        raise SplError("Error in 'timechart' command: only one BY field is allowed")
    if by and len(spec.aggs) > 1:
        raise UnsupportedSpl("timechart with several functions and BY")
    from .options import integer

    return Timechart(
        spec.aggs,
        by[0] if by else None,
        span_seconds(options["span"], "timechart"),
        integer("timechart", "limit", options.get("limit"), 10),
        boolean("timechart", "useother", options.get("useother"), True),
        boolean("timechart", "usenull", options.get("usenull"), True),
        boolean("timechart", "cont", options.get("cont"), True),
        options.get("otherstr", "OTHER"),
        options.get("nullstr", "NULL"),
    )


# ================================================================================ tstats


def _top_level_keyword(text: str, keyword: str) -> int:
    """Index of a keyword (case-insensitive, whole word) outside quotes and parentheses."""
    depth = 0
    i = 0
    lowered = text.lower()
    while i < len(text):
        char = text[i]
        if char == '"':
            i = quote_end(text, i)
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif (
            depth == 0
            and lowered.startswith(keyword, i)
            and (i == 0 or text[i - 1].isspace())
            and (i + len(keyword) == len(text) or text[i + len(keyword)].isspace())
        ):
            return i
        i += 1
    return -1


def load_dataset(spec: str) -> tuple[str, list[str]]:
    """`Model.Dataset` -> (name, constraint searches from the root data set down)."""
    model_name, _, dataset = spec.partition(".")
    if not dataset:
        raise UnsupportedSpl(f"tstats FROM datamodel={spec} (a data set must be named)")
    path = DATA / "datamodels" / f"{model_name}.json"
    if not path.is_file():
        raise UnsupportedSpl(f"data model {model_name} (not vendored in tests/data/executor/datamodels)")
    model = json.loads(path.read_text(encoding="utf-8"))

    def find(objects: list[dict[str, Any]], chain: list[str]) -> list[str] | None:
        for obj in objects:
            here = [*chain, obj.get("search_constraints", "")]
            if obj.get("name") == dataset:
                return here
            found = find(obj.get("child_dataset", []), here)
            if found is not None:
                return found
        return None

    constraints = find(model.get("objects", []), [])
    if constraints is None:
        raise SplError(f"Error in 'tstats' command: data model {model_name} has no data set {dataset}")
    searches = []
    for constraint in constraints:
        first, *rest = split_top(constraint, "|")
        # Later stages that only compute fields (eval) do not change which events belong to
        # the data set, and tstats here reads no data set field; anything else is refused.
        for stage in rest:
            if stage.split(None, 1)[0] != "eval":
                raise UnsupportedSpl(f"data set {spec}: a constraint with '{stage.strip()}'")
        if first.strip():
            searches.append(first.strip())
    return spec, searches


@dataclass
class Tstats:
    aggs: list[Agg]
    by: list[str]
    span: int | None
    where: searchexpr.SNode
    where_matcher: searchexpr.Matcher
    datamodel: tuple[str, list[searchexpr.Matcher]] | None
    summaries_only: bool = False

    def run(self, table: Table | None, rt: Runtime) -> Table:
        props = rt.splunk.props
        if self.datamodel is not None and self.summaries_only:
            model = self.datamodel[0].partition(".")[0]
            if model not in rt.splunk.accelerated_datamodels:
                # summariesonly=true reads only the acceleration summaries: none, no results.
                return Table(
                    [] if self.by else [{a.name: "0" for a in self.aggs if a.func == "count"}],
                    [*self.by, *[a.name for a in self.aggs]],
                )
        ctx = rt.eval_ctx
        list_max = rt.splunk.limits.list_maxsize
        groups: dict[tuple[str, ...], list[Acc]] = {}
        if not self.by:
            groups[()] = [Acc(a, list_max) for a in self.aggs]
        for event in visible_events(rt, self.where):
            row: dict[str, Any] = {
                "index": event.index,
                "sourcetype": event.sourcetype,
                "source": event.source,
                "host": event.host,
                "_time": format_time(event.time),
            }
            if not self.where_matcher(row):
                continue
            if self.datamodel is not None:
                fields = props.fields(event)
                if not all(m(fields) for m in self.datamodel[1]):
                    continue
            if self.span is not None:
                row["_time"] = format_time(_bucket(event.time, self.span))
            key = group_key(row, self.by)
            if key is None:
                continue
            accs = groups.setdefault(key, [Acc(a, list_max) for a in self.aggs])
            for acc in accs:
                acc.add(row, ctx)
        rows = []
        for key in sort_groups(list(groups)):
            out: dict[str, Any] = dict(zip(self.by, key))
            for acc in groups[key]:
                value = acc.result()
                if value is not None:
                    out[acc.agg.name] = value
            rows.append(out)
        return Table(rows, [*self.by, *[a.name for a in self.aggs]])


@command("tstats", generating=True)
def parse_tstats(args: str, ctx: ParseContext) -> Any:
    text = args.strip()
    positions = {k: _top_level_keyword(text, k) for k in ("from", "where", "by")}
    cuts = sorted((p, k) for k, p in positions.items() if p >= 0)
    aggs_text = text[: cuts[0][0]] if cuts else text
    parts: dict[str, str] = {}
    for index, (position, keyword) in enumerate(cuts):
        end = cuts[index + 1][0] if index + 1 < len(cuts) else len(text)
        parts[keyword] = text[position + len(keyword) : end].strip()
    spec = parse_spec(
        "tstats",
        aggs_text,
        frozenset(
            {
                "prestats",
                "local",
                "append",
                "summariesonly",
                "allow_old_summaries",
                "chunk_size",
                "fillnull_value",
            }
        ),
    )
    unsupported = sorted(k for k in spec.options if k != "summariesonly")
    if unsupported:
        raise UnsupportedSpl(f"tstats options {unsupported}")
    summaries_only = boolean("tstats", "summariesonly", spec.options.get("summariesonly"), False)
    allowed = INDEXED | {"_time"}
    for agg in spec.aggs:
        if agg.expression is not None or (agg.field is not None and agg.field not in allowed):
            raise UnsupportedSpl(f"tstats {agg.func}() of the non-indexed field {agg.field or 'eval(...)'}")
    datamodel = None
    if "from" in parts:
        match = re.fullmatch(r"datamodel=(\"?)([\w.]+)\1", parts["from"])
        if match is None:
            raise UnsupportedSpl(f"tstats FROM {parts['from']}")
        name, constraints = load_dataset(match.group(2))
        datamodel = (name, [searchexpr.compile_search(c)[1] for c in constraints])
    where_text = parts.get("where", "")
    node, matcher = searchexpr.compile_search(where_text) if where_text else (searchexpr.ALL, lambda r: True)
    for name in searchexpr.fields_compared(node):
        if name not in INDEXED:
            raise UnsupportedSpl(f"tstats WHERE on the non-indexed field {name}")
    if searchexpr.has_terms(node):
        raise UnsupportedSpl("tstats WHERE with bare terms")
    by: list[str] = []
    span = None
    for item in re.split(r"[\s,]+", parts.get("by", "").strip()):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if sep:
            if key != "span":
                raise UnsupportedSpl(f"tstats BY option {key}=")
            span = span_seconds(value, "tstats")
            continue
        if item not in allowed:
            raise UnsupportedSpl(f"tstats BY the non-indexed field {item}")
        by.append(item)
    if span is not None and "_time" not in by:
        raise SplError("Error in 'tstats' command: span= needs BY _time")
    if summaries_only and datamodel is None:
        raise UnsupportedSpl("tstats summariesonly=true without FROM datamodel=")
    return Tstats(spec.aggs, by, span, node, matcher, datamodel, summaries_only)
