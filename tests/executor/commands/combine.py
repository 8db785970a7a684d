"""Commands that combine searches: append, multisearch, union.

- append (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/append):
  the subsearch's results after the current ones; "By default, subsearches return a maximum of
  10,000 results" ([subsearch] maxout; option maxout=); maxtime cannot be measured (README).
- multisearch (.../search-commands/multisearch): two or more streaming searches run together,
  their events interleaved newest first; no subsearch row limit; a non-streaming command inside
  is an error.
- union (.../search-commands/union): at the start of a search with only streaming datasets, like
  multisearch; otherwise like append, each subsearch dataset limited to maxout (default 50000,
  [searchresults] maxresultrows). Named datasets (datamodel:..., savedsearch:...) are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import SplError, UnsupportedSpl
from ..pipeline import ParseContext, Runtime, Table, check, command, run, run_subsearch, split_pipeline
from .options import Args, boolean, integer

# Streaming commands a multisearch subsearch may use (multisearch page: "search, eval, where,
# fields, rex, ..."; the others are distributable streaming commands of the Command types page).
STREAMING = frozenset(
    {
        "search",
        "eval",
        "where",
        "fields",
        "rex",
        "spath",
        "rename",
        "lookup",
        "mvexpand",
        "addinfo",
        "fillnull",
    }
)


def _subsearches(parsed: Args, command_name: str) -> list[str]:
    out = []
    while not parsed.done():
        token = parsed.take()
        if token.kind == "op" and token.text == ",":
            continue
        if token.kind != "subsearch":
            raise UnsupportedSpl(
                f"{command_name} dataset {token.text!r} (only [subsearch] datasets are modelled)"
            )
        out.append(token.text[1:-1])
    return out


def _streaming(text: str) -> bool:
    stages = split_pipeline(text)
    return not stages[0].piped and all(s.name in STREAMING for s in stages[1:])


def _interleave(tables: list[Table], rt: Runtime) -> Table:
    from .basic import order_events

    pairs = []
    for table in tables:
        for row in table.rows:
            try:
                when = float(row.get("_time"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise SplError("multisearch: a result without _time") from None
            pairs.append((when, row))
    return Table(order_events(pairs, rt), None, events=True)


@dataclass
class Append:
    subsearch: str
    maxout: int | None

    def run(self, table: Table | None, rt: Runtime) -> Table:
        assert table is not None
        sub = run_subsearch(self.subsearch, rt, self.maxout)
        return Table([*table.rows, *sub.rows], None)


@command("append", takes_subsearch=True)
def parse_append(args: str, ctx: ParseContext) -> Any:
    parsed = Args("append", args)
    options = parsed.options(["maxout", "maxtime", "extendtimerange", "timeout"])
    if boolean("append", "extendtimerange", options.get("extendtimerange"), False):
        raise UnsupportedSpl("append extendtimerange=true")
    subsearches = _subsearches(parsed, "append")
    if len(subsearches) != 1:
        raise SplError("Error in 'append' command: exactly one subsearch is expected")
    if ctx.syntax_only:
        check(subsearches[0], ctx.splunk)
    maxout = integer("append", "maxout", options["maxout"], 0) if "maxout" in options else None
    return Append(subsearches[0], maxout)


@dataclass
class MultiSearch:
    subsearches: list[str]

    def run(self, table: Table | None, rt: Runtime) -> Table:
        tables = [run(text, rt.child()) for text in self.subsearches]
        return _interleave(tables, rt)


@command("multisearch", generating=True, takes_subsearch=True)
def parse_multisearch(args: str, ctx: ParseContext) -> Any:
    subsearches = _subsearches(Args("multisearch", args), "multisearch")
    if len(subsearches) < 2:
        raise SplError("Error in 'multisearch' command: Must specify at least 2 subsearches.")
    for text in subsearches:
        if not _streaming(text):
            raise SplError(
                f"Error in 'multisearch' command: Multisearch subsearches may only contain "
                f"purely streaming operations (subsearch: {text.strip()[:80]!r})"
            )
        if ctx.syntax_only:
            check(text, ctx.splunk)
    return MultiSearch(subsearches)


@dataclass
class Union:
    subsearches: list[str]
    maxout: int

    def run(self, table: Table | None, rt: Runtime) -> Table:
        if table is None and all(_streaming(t) for t in self.subsearches):
            return _interleave([run(text, rt.child()) for text in self.subsearches], rt)
        rows = list(table.rows) if table is not None else []
        for index, text in enumerate(self.subsearches):
            if table is None and index == 0:
                rows.extend(run(text, rt.child()).rows)
            else:
                rows.extend(run_subsearch(text, rt, self.maxout).rows)
        return Table(rows, None)


@command("union", generating=True, takes_subsearch=True)
def parse_union(args: str, ctx: ParseContext) -> Any:
    parsed = Args("union", args)
    options = parsed.options(["maxout", "maxtime", "timeout"])
    subsearches = _subsearches(parsed, "union")
    if not subsearches:
        raise SplError("Error in 'union' command: no dataset")
    if ctx.syntax_only:
        for text in subsearches:
            check(text, ctx.splunk)
    default = ctx.splunk.limits.maxresultrows if ctx.splunk is not None else 50000
    return Union(subsearches, integer("union", "maxout", options.get("maxout"), default))
