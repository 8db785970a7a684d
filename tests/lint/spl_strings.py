"""Every SPL string the app ships, with where it came from, and the expansion Splunk applies first.

Sources (read from package/ each time, never snapshotted):
- default/savedsearches.conf: the `search` of each stanza, and the `search` of each entry of
  `action.notable.param.drilldown_searches` (JSON);
- default/macros.conf: each macro's `definition`;
- default/eventtypes.conf: each eventtype's `search`;
- default/props.conf: each `EVAL-<field>` (an eval expression, checked as `eval <field>=...`);
- default/data/ui/views/*.xml: Dashboard Studio views (JSON in `<definition><![CDATA[...]]>`, see
  tools/render_dashboards.py): the `query` of every data source, a chain (`ds.chain`) appended to
  the search it `extend`s, and the `query` of `drilldown.linkToSearch` handlers; classic Simple XML
  views: every `<query>`.

Expansion: backtick macros, with arguments (`` `name(a, b)` `` is the stanza `[name(2)]` whose
`args` name the `$arg$` placeholders of its definition), recursively; then dashboard and notable
`$token$`s become a placeholder value. An undefined macro is an error naming it.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from tests.lint.conf_specs import read_conf, stanzas_of

# A dashboard token, with Dashboard Studio's filters (`$finding_id|s$` quotes the value).
TOKEN = re.compile(r"\$[A-Za-z_][\w.:]*(?:\|[a-z]+)*\$")
TOKEN_VALUE = "TOKEN"
MACRO = re.compile(r"`([^`]*)`")
# SPL comments: ```...```, replaced by a space when the search runs:
# https://help.splunk.com/splunk-enterprise/search/search-manual/10.0/using-the-search-app/add-comments-to-searches
COMMENT = re.compile(r"```.*?```", re.S)
MAX_MACRO_DEPTH = 20


class SourceError(Exception):
    """A shipped file whose SPL cannot be read (bad JSON, a chain without its base, ...)."""


@dataclass(frozen=True)
class SplString:
    """One SPL string as shipped. `pipeline`: True when it is a fragment that starts with a command
    (a macro used after a pipe, a props EVAL), False when it is a search (the first command, without
    a leading pipe, is an implicit `search`), None when nothing says (a macro no search uses)."""

    origin: str
    text: str
    pipeline: bool | None = False
    iseval: bool = False


@dataclass(frozen=True)
class Macro:
    stanza: str
    args: tuple[str, ...]
    definition: str
    iseval: bool


def read_macros(path: Path) -> dict[str, Macro]:
    macros = {}
    for stanza, keys in stanzas_of(path).items():
        if stanza == "default":
            continue
        args = tuple(a.strip() for a in keys.get("args", "").split(",") if a.strip())
        iseval = keys.get("iseval", "0").strip().lower() in ("1", "true", "t", "yes")
        macros[stanza] = Macro(stanza, args, keys.get("definition", ""), iseval)
    return macros


@dataclass(frozen=True)
class Expansion:
    text: str
    errors: tuple[tuple[str, str], ...]  # (macro stanza, what is wrong)


def split_arguments(text: str) -> list[str]:
    """A macro call's arguments: split on commas outside double quotes and parentheses."""
    parts, current, depth, quote = [], [], 0, False
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\" and i + 1 < len(text):
                current.append(char + text[i + 1])
                i += 2
                continue
            quote = char != '"'
        elif char == '"':
            quote = True
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            i += 1
            continue
        current.append(char)
        i += 1
    parts.append("".join(current).strip())
    return parts


def expand(text: str, macros: dict[str, Macro], depth: int = 0) -> Expansion:
    """The text with every backtick macro expanded (an undefined one, or one nested too deep, is
    left out and reported), then every `$token$` replaced by a placeholder value."""
    expanded, errors = _expand_macros(COMMENT.sub(" ", text), macros, depth)
    return Expansion(TOKEN.sub(TOKEN_VALUE, expanded), tuple(errors))


def _expand_macros(text: str, macros: dict[str, Macro], depth: int) -> tuple[str, list[tuple[str, str]]]:
    errors: list[tuple[str, str]] = []

    def one(match: re.Match[str]) -> str:
        call = match.group(1).strip()
        name, paren, rest = call.partition("(")
        name = name.strip()
        args = split_arguments(rest[: rest.rfind(")")]) if paren else []
        stanza = f"{name}({len(args)})" if paren else name
        macro = macros.get(stanza)
        if macro is None:
            errors.append((stanza, f"macro `{stanza}` is not defined in macros.conf"))
            return ""
        if depth >= MAX_MACRO_DEPTH:
            errors.append((stanza, f"macro `{stanza}` nests deeper than {MAX_MACRO_DEPTH} levels"))
            return ""
        if len(macro.args) != len(args):
            declared = ", ".join(macro.args)
            errors.append((stanza, f"macro `{stanza}` declares args = {declared}, called with {len(args)}"))
            return ""
        definition = COMMENT.sub(" ", macro.definition)
        for arg, value in zip(macro.args, args):
            definition = definition.replace(f"${arg}$", value)
        inner, inner_errors = _expand_macros(definition, macros, depth + 1)
        errors.extend(inner_errors)
        return inner

    return MACRO.sub(one, text), errors


# ------------------------------------------------------------------------------------ collection


def _rel(path: Path, package: Path) -> str:
    """`package/default/x.conf`: the path from the package folder, named as it is."""
    return f"{package.name}/{path.relative_to(package).as_posix()}"


def saved_searches(package: Path) -> list[SplString]:
    path = package / "default" / "savedsearches.conf"
    if not path.is_file():
        return []
    out = []
    for stanza, keys in stanzas_of(path).items():
        where = f"{_rel(path, package)} [{stanza}]"
        if "search" in keys:
            out.append(SplString(f"{where} search", keys["search"]))
        raw = keys.get("action.notable.param.drilldown_searches")
        if raw is None:
            continue
        try:
            drilldowns = json.loads(raw)
        except ValueError as exc:
            raise SourceError(f"{where} action.notable.param.drilldown_searches is not JSON: {exc}") from None
        if not isinstance(drilldowns, list):
            raise SourceError(f"{where} action.notable.param.drilldown_searches is not a JSON list")
        for index, item in enumerate(drilldowns):
            if not isinstance(item, dict) or not isinstance(item.get("search"), str):
                raise SourceError(f"{where} drilldown_searches[{index}] has no `search` string")
            label = f"{where} action.notable.param.drilldown_searches[{index}] ({item.get('name', '')})"
            out.append(SplString(label, item["search"]))
    return out


def eventtype_searches(package: Path) -> list[SplString]:
    path = package / "default" / "eventtypes.conf"
    if not path.is_file():
        return []
    where = _rel(path, package)
    return [
        SplString(f"{where} [{stanza}] search", keys["search"])
        for stanza, keys in stanzas_of(path).items()
        if "search" in keys
    ]


def props_evals(package: Path) -> list[SplString]:
    """Each `EVAL-<field> = <expression>` of props.conf, as the eval it is at search time."""
    path = package / "default" / "props.conf"
    if not path.is_file():
        return []
    where = _rel(path, package)
    return [
        SplString(f"{where} [{s.stanza}] {s.key}", f"eval {s.key[len('EVAL-') :]}={s.value}", pipeline=True)
        for s in read_conf(path)
        if s.key.startswith("EVAL-")
    ]


def _studio_queries(definition: dict[str, object], where: str) -> list[SplString]:
    """A `ds.chain` runs its query after the search it extends:
    https://help.splunk.com/splunk-enterprise/create-dashboards-and-reports/dashboard-studio/9.1/use-data-sources/chain-searches-together-with-a-base-search-and-chain-searches
    """
    sources = definition.get("dataSources") or {}
    if not isinstance(sources, dict):
        raise SourceError(f"{where}: dataSources is not an object")
    resolved: dict[str, str] = {}

    def full_query(name: str, seen: tuple[str, ...]) -> str:
        if name in resolved:
            return resolved[name]
        source = sources.get(name)
        if not isinstance(source, dict):
            raise SourceError(f"{where}: data source {name!r} is missing (extended by {seen[-1]!r})")
        options = source.get("options") or {}
        query = options.get("query")
        if not isinstance(query, str):
            raise SourceError(f"{where}: data source {name!r} has no query")
        base = options.get("extend")
        if isinstance(base, str):
            if base in seen:
                raise SourceError(f"{where}: data sources extend each other in a cycle: {(*seen, base)}")
            query = full_query(base, (*seen, name)) + "\n" + query
        resolved[name] = query
        return query

    out = []
    for name, source in sources.items():
        options = source.get("options") if isinstance(source, dict) else None
        if isinstance(options, dict) and "query" in options:
            out.append(SplString(f"{where} dataSources.{name} query", full_query(name, (name,))))
    visualizations = definition.get("visualizations") or {}
    for viz_name, viz in visualizations.items() if isinstance(visualizations, dict) else []:
        for index, handler in enumerate(viz.get("eventHandlers") or [] if isinstance(viz, dict) else []):
            options = handler.get("options") if isinstance(handler, dict) else None
            if isinstance(options, dict) and isinstance(options.get("query"), str):
                kind = handler.get("type")
                label = f"{where} visualizations.{viz_name}.eventHandlers[{index}] ({kind}) query"
                out.append(SplString(label, options["query"]))
    return out


def dashboard_queries(package: Path) -> list[SplString]:
    views = package / "default" / "data" / "ui" / "views"
    out: list[SplString] = []
    for path in sorted(views.glob("*.xml")) if views.is_dir() else []:
        where = _rel(path, package)
        try:
            root = ET.fromstring(path.read_text(encoding="utf-8"))
        except ET.ParseError as exc:
            raise SourceError(f"{where}: not XML: {exc}") from None
        definition = root.find("definition")
        if definition is not None and definition.text:
            try:
                parsed = json.loads(definition.text)
            except ValueError as exc:
                raise SourceError(f"{where}: <definition> is not JSON: {exc}") from None
            out.extend(_studio_queries(parsed, where))
            continue
        for index, query in enumerate(root.iter("query")):
            if query.text and query.text.strip():
                out.append(SplString(f"{where} <query> #{index}", query.text))
    return out


def macro_definitions(package: Path, uses: list[SplString]) -> list[SplString]:
    """Each macro's definition; a pipeline fragment when some SPL uses the macro right after a pipe,
    a search when SPL uses it elsewhere, undecided (None) when nothing uses it."""
    path = package / "default" / "macros.conf"
    if not path.is_file():
        return []
    macros = read_macros(path)
    texts = [s.text for s in uses] + [m.definition for m in macros.values()]
    out = []
    for stanza, macro in macros.items():
        name = re.escape(stanza.split("(", 1)[0])
        after_pipe = re.compile(r"\|\s*`" + name + r"[`(]")
        anywhere = re.compile(r"`" + name + r"[`(]")
        if any(after_pipe.search(t) for t in texts):
            pipeline: bool | None = True
        elif any(anywhere.search(t) for t in texts):
            pipeline = False
        else:
            pipeline = None
        where = f"{_rel(path, package)} [{stanza}] definition"
        out.append(SplString(where, macro.definition, pipeline, macro.iseval))
    return out


def shipped_spl(package: Path) -> list[SplString]:
    """Every SPL string of the package folder, in a stable order."""
    uses = saved_searches(package) + eventtype_searches(package) + dashboard_queries(package)
    return uses + macro_definitions(package, uses) + props_evals(package)


def shipped_macros(package: Path) -> dict[str, Macro]:
    path = package / "default" / "macros.conf"
    return read_macros(path) if path.is_file() else {}
