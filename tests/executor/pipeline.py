"""Searches as pipelines of commands: splitting, the command registry, subsearches and running.

https://help.splunk.com/splunk-enterprise/search/search-manual/9.4/subsearches/about-subsearches:
a subsearch in `[...]` runs first, over the time range of the search that contains it; its
results go through an implicit `format` into `( ( f1="v1" AND f2="v2" ) OR ( ... ) )` (fields
starting with `_` left out, a multivalue field as `( f="a" OR f="b" )`, a field named `search` or
`query` inserted as is; no results: `NOT ( )`), and are limited to [subsearch] maxout rows
("Subsearch produced N results, truncating to maxout M."). The [subsearch] maxtime limit (60 s)
cannot be measured deterministically here: a subsearch is never finalized early (README).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .errors import SplError, UnsupportedSpl
from .evalexpr import EvalContext
from .lexer import bracket_end, quote_end, split_top

if TYPE_CHECKING:
    from .splunk import Splunk

MAX_SUBSEARCH_DEPTH = 8  # limits.conf [search] max_subsearch_depth


@dataclass
class Message:
    level: str  # INFO, WARN, ERROR: how the search shows it
    text: str


@dataclass
class Table:
    """Results flowing between commands. `columns` is the order a `table`/`fields`/reporting
    command defined (None: the order fields first appear in the rows)."""

    rows: list[dict[str, Any]]
    columns: list[str] | None = None
    events: bool = False  # rows are events (time-ordered), not a report

    def field_order(self) -> list[str]:
        order: list[str] = list(self.columns or [])
        seen = set(order)
        for row in self.rows:
            for name in row:
                if name not in seen:
                    seen.add(name)
                    order.append(name)
        if self.columns is not None:
            present = {n for row in self.rows for n in row}
            order = [n for n in order if n in present or n in self.columns]
        return order


@dataclass
class Runtime:
    splunk: Splunk
    now: float
    earliest: float | None  # None: all time
    latest: float | None
    earliest_text: str
    latest_text: str
    rng: random.Random
    sid: str
    search_text: str = ""
    depth: int = 0
    messages: list[Message] = field(default_factory=list)
    eval_ctx: EvalContext = field(default_factory=EvalContext)

    def warn(self, text: str) -> None:
        self.messages.append(Message("WARN", text))

    def info(self, text: str) -> None:
        self.messages.append(Message("INFO", text))

    def child(self) -> Runtime:
        if self.depth + 1 > MAX_SUBSEARCH_DEPTH:
            raise SplError(f"Subsearches are nested deeper than {MAX_SUBSEARCH_DEPTH}")
        return Runtime(
            self.splunk,
            self.now,
            self.earliest,
            self.latest,
            self.earliest_text,
            self.latest_text,
            self.rng,
            self.sid,
            self.search_text,
            self.depth + 1,
            self.messages,
            self.eval_ctx,
        )

    def shuffled(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A seeded shuffle where Splunk documents no order (README, "Order")."""
        out = list(rows)
        self.rng.shuffle(out)
        return out


class Command(Protocol):
    def run(self, table: Table | None, rt: Runtime) -> Table: ...


@dataclass(frozen=True)
class Spec:
    name: str
    parse: Callable[[str, ParseContext], Command]
    generating: bool = False  # may start a search after `|`
    takes_subsearch: bool = False  # [..] are its arguments, not formatted into the text


@dataclass
class ParseContext:
    first: bool  # the first command of its pipeline
    splunk: Splunk | None
    syntax_only: bool = False


REGISTRY: dict[str, Spec] = {}


def command(
    name: str, generating: bool = False, takes_subsearch: bool = False
) -> Callable[[Callable[[str, ParseContext], Command]], Callable[[str, ParseContext], Command]]:
    def register(parse: Callable[[str, ParseContext], Command]) -> Callable[[str, ParseContext], Command]:
        REGISTRY[name] = Spec(name, parse, generating, takes_subsearch)
        return parse

    return register


# ------------------------------------------------------------------------------ splitting


@dataclass(frozen=True)
class Stage:
    name: str
    args: str
    piped: bool  # written after a `|` (a base search's first stage is not)


def split_pipeline(text: str) -> list[Stage]:
    """Top-level `|` split. Without a leading `|` the first stage is the event search."""
    stripped = text.strip()
    if not stripped:
        raise SplError("Empty search")
    leading_pipe = stripped.startswith("|")
    parts = split_top(stripped[1:] if leading_pipe else stripped, "|")
    stages: list[Stage] = []
    for index, part in enumerate(parts):
        part = part.strip()
        if not part:
            raise SplError("Empty search: a command is missing between two pipes")
        if index == 0 and not leading_pipe:
            words = part.split(None, 1)
            if words[0] == "search":
                part = words[1] if len(words) > 1 else ""
            stages.append(Stage("search", part, piped=False))
            continue
        words = part.split(None, 1)
        name = words[0]
        stages.append(Stage(name, words[1] if len(words) > 1 else "", piped=True))
    return stages


def lookup_spec(name: str, splunk: Splunk | None) -> Spec:
    spec = REGISTRY.get(name)
    if spec is not None:
        return spec
    if splunk is not None:
        custom = splunk.custom_command_spec(name)
        if custom is not None:
            return custom
    raise UnsupportedSpl(f"command '{name}'")


# ------------------------------------------------------------------------------ subsearch


def _format_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_results(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """The implicit `format` of subsearch results
    (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/format)."""
    if not rows:
        return "NOT ( )"
    terms = []
    for row in rows:
        parts = []
        for name in columns:
            if name.startswith("_") or name not in row:
                continue
            value = row[name]
            values = value if isinstance(value, list) else [value]
            if name in ("search", "query"):
                rendered = [str(v) for v in values]
            else:
                rendered = [f"{name}={_format_value(v)}" for v in values]
            parts.append(rendered[0] if len(rendered) == 1 else "( " + " OR ".join(rendered) + " )")
        if parts:
            terms.append("( " + " AND ".join(parts) + " )")
    if not terms:
        return "NOT ( )"
    return "( " + " OR ".join(terms) + " )"


def run_subsearch(text: str, rt: Runtime, maxout: int | None = None) -> Table:
    """A subsearch's results, limited to maxout rows with Splunk's message."""
    child = rt.child()
    table = run(text, child)
    limit = rt.splunk.limits.subsearch_maxout if maxout is None else maxout
    if limit > 0 and len(table.rows) > limit:
        rt.warn(f"[subsearch]: Subsearch produced {len(table.rows)} results, truncating to maxout {limit}.")
        table = Table(table.rows[:limit], table.columns, table.events)
    return table


def substitute_subsearches(args: str, rt: Runtime | None, splunk: Splunk | None = None) -> str:
    """Replace each top-level [subsearch] of a command's arguments by its formatted results
    (syntax-only mode, rt None: by a placeholder term, after checking the subsearch parses)."""
    if "[" not in args:
        return args
    out: list[str] = []
    i = 0
    while i < len(args):
        char = args[i]
        if char == '"':
            end = quote_end(args, i)
            out.append(args[i:end])
            i = end
            continue
        if char == "[":
            end = bracket_end(args, i)
            inner = args[i + 1 : end - 1]
            if rt is None:
                check(inner, splunk)
                out.append('( executor_subsearch="placeholder" )')
            else:
                table = run_subsearch(inner, rt)
                out.append(format_results(table.rows, table.field_order()))
            i = end
            continue
        out.append(char)
        i += 1
    return "".join(out)


# ------------------------------------------------------------------------------ running


def build(stage: Stage, first: bool, rt: Runtime | None, splunk: Splunk | None) -> Command:
    if not stage.piped:
        spec = REGISTRY["search"]
    else:
        spec = lookup_spec(stage.name, splunk)
        if first and not spec.generating:
            raise SplError(
                f"Error in '{stage.name}' command: This command must be the first command of a search."
            )
    args = stage.args
    if not spec.takes_subsearch:
        args = substitute_subsearches(args, rt, splunk)
    ctx = ParseContext(first=first, splunk=splunk, syntax_only=rt is None)
    return spec.parse(args, ctx)


def run(text: str, rt: Runtime, table: Table | None = None) -> Table:
    """Run a search (macros already expanded)."""
    rt.search_text = text  # what a custom command's getinfo names as its search
    stages = split_pipeline(text)
    for index, stage in enumerate(stages):
        first = index == 0 and table is None
        cmd = build(stage, first, rt, rt.splunk)
        table = cmd.run(table, rt)
    assert table is not None
    return table


def check(text: str, splunk: Splunk | None) -> list[Command]:
    """Parse every command of a search (and of its subsearches) without running anything."""
    commands = []
    for index, stage in enumerate(split_pipeline(text)):
        commands.append(build(stage, index == 0, None, splunk))
    return commands
