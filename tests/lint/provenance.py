"""Field provenance (issue 13): every field a shipped search filters, groups or joins on is produced
by a sourcetype its data macros name or by an earlier command of the same pipeline.

A static data-flow pass over each search, command by command, carrying the set of fields the
results can have (`Fields`: "can", a union over the sources, since a field one sourcetype has is
enough for a filter to make sense).

What the events of a base search carry, per source its `sourcetype=` terms name (after macro
expansion; wildcards match the sourcetypes props.conf maps, case-insensitively like search values):
- a mapped sourcetype (a props.conf stanza): the targets of its FIELDALIAS- and EVAL- settings (the
  rendered props, what Splunk gets: on vendor-owned sourcetypes only `mobile_ingress_*` fields) and,
  with KV_MODE = json, the flattened keys of its raw sample events (samples/, their sourcetype from
  pytest-splunk-addon-data.conf), as automatic extraction names them (`a.b`, `arr{}`, `arr{}.x`,
  within the [spath] extraction_cutoff and [kv] limit of limits.conf);
- `index=_internal` (any index starting with `_`): the app's own log lines, `_raw` only;
- a sourcetype the app does not map (e.g. the placeholder of `mobile_ingress_ip_sources`, which the
  user must point at their DHCP or VPN events): nothing. Such a source is the user's to configure:
  when every source of a search is of that kind, its first `fields`/`table` declares the fields it
  promises (the shipped macro ends with one), and those are what the pipeline carries from there;
- always Splunk's default fields.
A base search that names no sourcetype and no internal index reads unknown events: a violation,
unless it is a subsearch, which reads the outer search's sources.

Inside a base search each `field=value` term is checked against the sources in its own scope: the
sourcetypes that the conjunction it sits in restricts to (`(A OR (B x=1))` checks x against B).
`tag=`/`eventtype=` values must be given by an eventtype of the app (eventtypes.conf, tags.conf)
whose search names a source in scope.

Checked uses (anything else a command reads, e.g. eval's inputs, may be absent by design:
`coalesce(dest, dest_ip)`):
- filter: search terms, `where`, `dedup` (drops results without the fields), `mvexpand` (a result
  without the field yields none), a subsearch's output fields (they become `field=value` terms of
  the outer search, unless it returns `search`/`query`, which are inserted as they are, or only
  `earliest`/`latest`, which are time modifiers), `tstats WHERE`, `inputlookup WHERE`;
- group: BY clauses of stats, timechart, tstats;
- join: lookup input fields (and the lookup's own columns), eventstats/streamstats BY keys,
  outputlookup `key_field`;
- read: the normalized event fields ingresscorrelate reads (engine/events.py EVENT_FIELDS).
Every command the check meets is modelled below or is a violation; a form of a command it does not
model (spath without a path, rename with wildcards, dedup sortby, ...) is a violation too.

What it cannot see: the terms a `search` field inserts (ingressprefilter's, rendered at search
time); a filter that keeps only some of the sourcetypes in scope (one source with the field is
enough, by design); whether a produced field has a value on a given event (an EVAL may be null).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from mobile_ingress.engine.events import EVENT_FIELDS
from mobile_ingress.engine.findings import FIELDS as FINDING_FIELDS
from tests.executor import evalexpr, jsonflat, searchexpr
from tests.executor.errors import SplError, UnsupportedSpl
from tests.executor.lexer import bracket_end, quote_end, tokenize, unquote
from tests.executor.limits import Limits
from tests.executor.pipeline import Stage, split_pipeline
from tests.lint.conf_specs import Spec, stanzas_of
from tests.lint.spl_strings import MACRO as MACRO_CALL
from tests.lint.spl_strings import Macro, SplString, expand, read_macros, shipped_spl, split_arguments

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "tests" / "data" / "splunk-10.4"
DATAMODELS = ROOT / "tests" / "data" / "executor" / "datamodels"
SAMPLES = ROOT / "samples"
SAMPLE_CONF = ROOT / "pytest-splunk-addon-data.conf"

# Default fields of every event (Getting Data In, "About default fields":
# https://docs.splunk.com/Documentation/Splunk/9.1.2/Data/Aboutdefaultfields), the other internal
# fields searches show (_bkt, _serial, _si, _sourcetype, _kv), and the eventtype/tag fields
# (Knowledge Manager Manual, "About event types" and "About tags and aliases").
DEFAULT_FIELDS = frozenset(
    {
        "_raw", "_time", "_indextime", "_cd", "_bkt", "_serial", "_si", "_sourcetype", "_kv",
        "host", "index", "linecount", "punct", "source", "sourcetype", "splunk_server",
        "splunk_server_group", "timestamp", "timestartpos", "timeendpos",
        "date_hour", "date_mday", "date_minute", "date_month", "date_second", "date_wday",
        "date_year", "date_zone", "eventtype", "tag", "tag::eventtype",
    }
)  # fmt: skip
# tstats reads indexed fields only (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/tstats).
INDEXED_FIELDS = frozenset({"_time", "_indextime", "index", "sourcetype", "source", "host", "splunk_server"})
# addinfo (.../search-commands/addinfo).
ADDINFO_FIELDS = frozenset({"info_min_time", "info_max_time", "info_search_time", "info_sid"})
# rest (.../search-commands/rest): each entry's title, id, dates, author, ACL and server; apps/local's
# content keys from the REST API Reference (https://docs.splunk.com/Documentation/Splunk/9.4.0/RESTREF/RESTapps).
REST_ENTRY_FIELDS = frozenset({"title", "id", "updated", "published", "author", "splunk_server"})
REST_ENTRY_PATTERNS = frozenset({"eai:*"})
REST_APP_FIELDS = frozenset(
    {
        "author", "check_for_updates", "configured", "core", "description", "details", "disabled",
        "label", "managed_by_deployment_client", "show_in_nav", "state_change_requires_restart",
        "version", "visible",
    }
)  # fmt: skip
# The app's own commands (commands.conf): what they produce, and what ingresscorrelate reads.
INGRESSCORRELATE_OUTPUT = frozenset(FINDING_FIELDS) | {"src", "dvc", "_time", "suppressed_by"}
INGRESSPREFILTER_OUTPUT = frozenset({"search"})
# A subsearch's fields that `format` does not turn into field=value terms
# (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/format).
VERBATIM_SUBSEARCH_FIELDS = frozenset({"search", "query"})
TIME_SUBSEARCH_FIELDS = frozenset({"earliest", "latest"})
SUBSEARCH_VALUE = "__provenance_subsearch_value__"
INTERNAL = "index=_internal"
UNMAPPED = "unmapped:"


class Use(str, Enum):
    FILTER = "filter"
    GROUP = "group"
    JOIN = "join"
    READ = "read"


class Rule(str, Enum):
    FIELD = "field"  # a field used that nothing upstream produces
    LOOKUP_COLUMN = "lookup column"  # a lookup input/output the table does not have
    TAG = "tag value"  # a tag/eventtype value no eventtype of the sources gives
    SOURCE = "source"  # events, lookup or endpoint the check cannot know
    COMMAND = "command"  # a command the check does not model
    FORM = "form"  # a form of a command the check does not model, or a parse error


@dataclass(frozen=True)
class Violation:
    rule: Rule
    origin: str
    command: str  # `<position> <name>` in its pipeline
    field: str
    reason: str
    use: Use | None = None

    def __str__(self) -> str:
        use = f" ({self.use.value})" if self.use else ""
        return f"{self.origin}: command {self.command}: `{self.field}`{use}: {self.reason}"


class KnowledgeError(Exception):
    """A shipped file the check needs but cannot read."""


# ------------------------------------------------------------------------------------ fields


@dataclass(frozen=True)
class Fields:
    """The fields results can have at a point of a pipeline. `patterns`: names known only by
    shape (`row *` after transpose, `*` after an unknown command). `pending`: every source is
    one the user configures, whose first `fields`/`table` declares what it carries."""

    names: frozenset[str]
    patterns: frozenset[str] = frozenset()
    pending: bool = False

    def has(self, name: str) -> bool:
        return name in self.names or any(fnmatchcase(name, p) for p in self.patterns)

    def plus(self, names: Iterable[str]) -> Fields:
        return Fields(self.names | frozenset(names), self.patterns, self.pending)

    def union(self, other: Fields) -> Fields:
        # Results of several pipelines: a user-configured source must declare its fields in its own.
        return Fields(self.names | other.names, self.patterns | other.patterns)


EMPTY = Fields(frozenset())
UNKNOWN = Fields(frozenset(), frozenset({"*"}))


# --------------------------------------------------------------------------------- knowledge


@dataclass(frozen=True)
class Eventtype:
    name: str
    sources: frozenset[str] | None
    tags: frozenset[str]


@dataclass(frozen=True)
class Lookup:
    name: str
    columns: frozenset[str]


@dataclass
class Knowledge:
    """What the app gives Splunk: its sourcetypes' fields, eventtypes, lookups and macros."""

    sourcetype_fields: dict[str, frozenset[str]]
    eventtypes: list[Eventtype]
    lookups: dict[str, Lookup]  # by definition name and by CSV file name
    macros: dict[str, Macro]
    specs_dir: Path = SPECS
    datamodels_dir: Path = DATAMODELS
    _spec_cache: dict[str, Spec | None] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path = ROOT) -> Knowledge:
        default = root / "package" / "default"
        sourcetypes = _sourcetype_fields(default / "props.conf", root / "samples", root / SAMPLE_CONF.name)
        return cls(
            sourcetype_fields=sourcetypes,
            eventtypes=_eventtypes(default, sourcetypes),
            lookups=_lookups(default / "transforms.conf", root / "package" / "lookups"),
            macros=read_macros(default / "macros.conf"),
        )

    def sources_matching(self, pattern: str) -> frozenset[str]:
        """The mapped sourcetypes a `sourcetype=` value names (values are case-insensitive, `*` a
        wildcard); a value naming none is an unmapped source of its own."""
        folded = pattern.casefold()
        found = frozenset(st for st in self.sourcetype_fields if fnmatchcase(st.casefold(), folded))
        return found or frozenset({UNMAPPED + pattern})

    def events_fields(self, scope: frozenset[str]) -> Fields:
        names = set(DEFAULT_FIELDS)
        for source in scope:
            names |= self.sourcetype_fields.get(source, frozenset())
        pending = bool(scope) and all(s.startswith(UNMAPPED) for s in scope)
        return Fields(frozenset(names), pending=pending)

    def spec(self, conf: str) -> Spec | None:
        if conf not in self._spec_cache:
            path = self.specs_dir / f"{conf}.conf.spec"
            self._spec_cache[conf] = Spec.read(path) if path.is_file() else None
        return self._spec_cache[conf]


def _unquoted(text: str) -> str:
    return unquote(text) if len(text) >= 2 and text[0] == text[-1] == '"' else text


_ALIAS_PAIR = re.compile(r'("(?:[^"\\]|\\.)*"|\S+)\s+(?i:asnew|as)\s+("(?:[^"\\]|\\.)*"|\S+)')


def _sample_files(conf: Path) -> dict[str, str]:
    """Sample file -> sourcetype, as pytest-splunk-addon-data.conf says."""
    if not conf.is_file():
        return {}
    return {name: keys["sourcetype"] for name, keys in stanzas_of(conf).items() if "sourcetype" in keys}


def _sample_fields(paths: list[Path], limits: Limits) -> frozenset[str]:
    names: set[str] = set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                names |= set(jsonflat.flatten_raw(line, limits.spath_extraction_cutoff, limits.kv_limit))
    return frozenset(names)


def _sourcetype_fields(props: Path, samples: Path, sample_conf: Path) -> dict[str, frozenset[str]]:
    if not props.is_file():
        raise KnowledgeError(f"{props}: missing")
    limits = Limits.default()
    files = _sample_files(sample_conf)
    out: dict[str, frozenset[str]] = {}
    for stanza, keys in stanzas_of(props).items():
        if stanza == "default" or "::" in stanza:
            continue  # source::, host::, rule:: stanzas name no sourcetype
        names: set[str] = set()
        for key, value in keys.items():
            if key.startswith("EVAL-"):
                names.add(key[len("EVAL-") :])
            elif key.startswith("FIELDALIAS-"):
                pairs = _ALIAS_PAIR.findall(value)
                if not pairs:
                    raise KnowledgeError(f"{props} [{stanza}] {key}: not `<field> AS <alias>`: {value!r}")
                names |= {_unquoted(target) for _, target in pairs}
        if keys.get("KV_MODE", "").strip().lower() == "json":
            paths = sorted(samples / name for name, st in files.items() if st == stanza)
            names |= _sample_fields(paths, limits)
        out[stanza] = frozenset(names)
    return out


def _eventtypes(default: Path, sourcetypes: dict[str, frozenset[str]]) -> list[Eventtype]:
    path = default / "eventtypes.conf"
    if not path.is_file():
        return []
    probe = Knowledge(sourcetypes, [], {}, {})
    tags_path = default / "tags.conf"
    tags = stanzas_of(tags_path) if tags_path.is_file() else {}
    out = []
    for name, keys in stanzas_of(path).items():
        if "search" not in keys:
            continue
        enabled = tags.get(f"eventtype={name}", {})
        out.append(
            Eventtype(
                name,
                sources_of(searchexpr.parse(keys["search"]), probe),
                frozenset(t for t, v in enabled.items() if v.strip().lower() == "enabled"),
            )
        )
    return out


def _csv_columns(path: Path) -> frozenset[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle), [])
    return frozenset(h.strip() for h in header if h.strip())


def _lookups(transforms: Path, lookups_dir: Path) -> dict[str, Lookup]:
    out: dict[str, Lookup] = {}
    for csv_path in sorted(lookups_dir.glob("*.csv")) if lookups_dir.is_dir() else []:
        out[csv_path.name] = Lookup(csv_path.name, _csv_columns(csv_path))
    for name, keys in (stanzas_of(transforms) if transforms.is_file() else {}).items():
        if keys.get("external_type", "").strip() == "kvstore":
            columns = frozenset(c.strip() for c in keys.get("fields_list", "").split(",") if c.strip())
            out[name] = Lookup(name, columns | {"_key"})
        elif "filename" in keys:
            filename = keys["filename"].strip()
            if filename not in out:
                raise KnowledgeError(f"{transforms} [{name}]: lookups/{filename} does not exist")
            out[name] = Lookup(name, out[filename].columns)
    return out


# ---------------------------------------------------------------------------- search sources


def sources_of(node: searchexpr.SNode, knowledge: Knowledge) -> frozenset[str] | None:
    """The sources a search expression restricts its events to; None when it does not."""
    if node.kind == "cmp" and node.op == "=":
        if node.field == "sourcetype":
            return knowledge.sources_matching(node.value)
        if node.field == "index" and node.value.startswith("_"):
            return frozenset({INTERNAL})
        return None
    if node.kind == "in" and node.field == "sourcetype":
        found: frozenset[str] = frozenset()
        for value in node.values:
            found |= knowledge.sources_matching(value)
        return found
    if node.kind == "and":
        known = [s for s in (sources_of(c, knowledge) for c in node.children) if s is not None]
        if not known:
            return None
        result = known[0]
        for other in known[1:]:
            result &= other
        return result
    if node.kind == "or":
        parts = [sources_of(c, knowledge) for c in node.children]
        if any(p is None for p in parts):
            return None
        return frozenset().union(*parts)  # type: ignore[arg-type]
    return None


# ------------------------------------------------------------------------------ arguments


@dataclass(frozen=True)
class Args:
    options: dict[str, str]  # name (lower-case) -> value, quotes removed
    words: list[str]  # everything else, in order, quotes removed


def parse_args(text: str) -> Args:
    tokens = tokenize(text)
    options: dict[str, str] = {}
    words: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.kind == "word" and nxt is not None and nxt.kind == "op" and nxt.text == "=":
            if i + 2 >= len(tokens):
                raise SplError(f"no value after {token.text}= in {text!r}")
            options[token.text.lower()] = tokens[i + 2].value
            i += 3
            continue
        if not (token.kind == "op" and token.text == ","):
            words.append(token.value)
        i += 1
    return Args(options, words)


@dataclass(frozen=True)
class Aggregation:
    function: str
    argument: str | None
    name: str  # the output field


@dataclass(frozen=True)
class Statistics:
    options: dict[str, str]
    aggregations: list[Aggregation]
    by: list[str]


_OPTION = re.compile(r'([A-Za-z_][\w.]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]+)')
_WORD = re.compile(r"([A-Za-z_][\w]*)")
_AS = re.compile(r'\s+(?i:as)\s+("(?:[^"\\]|\\.)*"|[^\s,]+)')


def by_fields(text: str) -> list[str]:
    """A BY list: names separated by spaces or commas; `span=1h`-like options skipped."""
    return [_unquoted(w) for w in re.split(r"[\s,]+", text.strip()) if w and "=" not in w]


def parse_statistics(text: str) -> Statistics:
    """`[options] func[(arg)] [AS name] ... [BY f1 f2 ...]` (stats, eventstats, streamstats,
    timechart, and tstats' part before FROM/WHERE/BY)."""
    options: dict[str, str] = {}
    aggregations: list[Aggregation] = []
    by: list[str] = []
    pos, n = 0, len(text)
    while pos < n:
        while pos < n and (text[pos].isspace() or text[pos] == ","):
            pos += 1
        if pos >= n:
            break
        option = _OPTION.match(text, pos)
        if option is not None:
            options[option.group(1).lower()] = _unquoted(option.group(2))
            pos = option.end()
            continue
        word = _WORD.match(text, pos)
        if word is None:
            raise SplError(f"cannot read {text[pos : pos + 30]!r} in {text!r}")
        if word.group(1).lower() == "by":
            by = by_fields(text[word.end() :])
            break
        start, pos = pos, word.end()
        argument = None
        if pos < n and text[pos] == "(":
            end = bracket_end(text, pos)
            argument = text[pos + 1 : end - 1].strip()
            pos = end
        name = text[start:pos]
        alias = _AS.match(text, pos)
        if alias is not None:
            name = _unquoted(alias.group(1))
            pos = alias.end()
        aggregations.append(Aggregation(word.group(1).lower(), argument, name))
    return Statistics(options, aggregations, by)


def keyword_parts(text: str, keywords: tuple[str, ...]) -> dict[str, str]:
    """Split at top-level keywords (whole words, any case, outside quotes and brackets): the text
    before the first is under "", each keyword's text under its lower-case name."""
    cuts: list[tuple[int, str]] = []
    depth, i = 0, 0
    while i < len(text):
        char = text[i]
        if char == '"':
            i = quote_end(text, i)
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0 and (i == 0 or text[i - 1].isspace()):
            for keyword in keywords:
                end = i + len(keyword)
                if text[i:end].lower() == keyword and (end == len(text) or text[end].isspace()):
                    cuts.append((i, keyword))
                    break
        i += 1
    parts = {"": text[: cuts[0][0]] if cuts else text}
    for index, (position, keyword) in enumerate(cuts):
        end = cuts[index + 1][0] if index + 1 < len(cuts) else len(text)
        parts[keyword] = text[position + len(keyword) : end].strip()
    return parts


def eval_assignments(text: str) -> list[tuple[str, evalexpr.Node]]:
    """`eval a=<expr>, b=<expr>`: each assigned name with its expression."""
    out = []
    pos, n = 0, len(text)
    name_pattern = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s=,]+)\s*=(?!=)""")
    while pos < n:
        while pos < n and (text[pos].isspace() or text[pos] == ","):
            pos += 1
        if pos >= n:
            break
        match = name_pattern.match(text, pos)
        if match is None:
            raise SplError(f"eval: expected `<field>=<expression>` at {text[pos : pos + 30]!r}")
        name = match.group(1)
        if name[0] in "\"'":
            name = name[1:-1]
        node, end = evalexpr.parse_prefix(text, match.end())
        out.append((name, node))
        pos = end + 1
    return out


_NAMED_GROUP = re.compile(r"\(\?P?<([A-Za-z_]\w*)>")


# --------------------------------------------------------------------------------- analysis


@dataclass(frozen=True)
class Context:
    origin: str  # the SPL string, and the subsearch inside it
    scope: frozenset[str] | None  # the sources of the outer search (for subsearches)


@dataclass(frozen=True)
class Here:
    """The command being analysed."""

    ctx: Context
    position: int
    name: str

    @property
    def label(self) -> str:
        return f"{self.position} `{self.name}`"


class Analyzer:
    """Checks pipelines against a Knowledge; collects the violations."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self.violations: list[Violation] = []
        self.handlers = {
            "search": self._search,
            "where": self._where,
            "eval": self._eval,
            "fields": self._fields,
            "table": self._table,
            "rename": self._rename,
            "stats": self._stats,
            "eventstats": self._eventstats,
            "streamstats": self._eventstats,
            "timechart": self._timechart,
            "tstats": self._tstats,
            "lookup": self._lookup,
            "inputlookup": self._inputlookup,
            "outputlookup": self._outputlookup,
            "append": self._append,
            "multisearch": self._multisearch,
            "union": self._multisearch,
            "mvexpand": self._mvexpand,
            "spath": self._spath,
            "rex": self._rex,
            "fillnull": self._fillnull,
            "sort": self._unchanged,
            "head": self._unchanged,
            "dedup": self._dedup,
            "transpose": self._transpose,
            "addinfo": self._addinfo,
            "rest": self._rest,
            "makeresults": self._makeresults,
            "ingresscorrelate": self._ingresscorrelate,
            "ingressprefilter": self._ingressprefilter,
        }

    # ---- reporting

    def report(self, here: Here, rule: Rule, name: str, reason: str, use: Use | None = None) -> None:
        self.violations.append(Violation(rule, here.ctx.origin, here.label, name, reason, use))

    def require(self, here: Here, state: Fields, name: str, use: Use, where: str = "") -> None:
        if not state.has(name):
            reason = "nothing upstream produces it" + (f" ({where})" if where else "")
            self.report(here, Rule.FIELD, name, reason, use)

    # ---- pipelines

    def pipeline(self, text: str, ctx: Context) -> Fields:
        """The fields of a pipeline's results; every command checked on the way."""
        state: Fields | None = None  # no results before the first command
        try:
            stages = split_pipeline(text)
        except (SplError, UnsupportedSpl) as exc:
            self.report(Here(ctx, 1, "search"), Rule.FORM, text[:60], f"cannot split the pipeline: {exc}")
            return UNKNOWN
        for position, stage in enumerate(stages, start=1):
            name = stage.name.lower()
            here = Here(ctx, position, name)
            if not stage.piped:
                state, scope = self._base_search(stage, here)
                # Later subsearches read the sources of this search.
                ctx = Context(ctx.origin, scope if scope is not None else ctx.scope)
                continue
            handler = self.handlers.get(name)
            if handler is None:
                self.report(here, Rule.COMMAND, stage.name, "a command the provenance check does not model")
                state = UNKNOWN
                continue
            try:
                state = handler(stage.args, state if state is not None else EMPTY, here)
            except (SplError, UnsupportedSpl) as exc:
                self.report(here, Rule.FORM, stage.args[:60], f"cannot read the command: {exc}")
                state = UNKNOWN
        return state if state is not None else EMPTY

    def subsearch(self, text: str, here: Here, number: int, scope: frozenset[str] | None) -> Fields:
        origin = f"{here.ctx.origin} > command {here.label} [subsearch {number}]"
        return self.pipeline(text, Context(origin, scope))

    def _substitute_subsearches(self, args: str, here: Here, scope: frozenset[str] | None) -> str:
        """Each [subsearch] of a search's arguments analysed, and replaced by the terms its
        results become through `format`."""
        out: list[str] = []
        i, number = 0, 0
        while i < len(args):
            char = args[i]
            if char == '"':
                end = quote_end(args, i)
                out.append(args[i:end])
                i = end
                continue
            if char == "[":
                end = bracket_end(args, i)
                number += 1
                fields = self.subsearch(args[i + 1 : end - 1], here, number, scope)
                out.append(self._as_terms(fields, here))
                i = end
                continue
            out.append(char)
            i += 1
        return "".join(out)

    def _as_terms(self, fields: Fields, here: Here) -> str:
        if fields.patterns:
            reason = "a subsearch whose output fields are unknown: its terms cannot be checked"
            self.report(here, Rule.FORM, "[subsearch]", reason)
            return "*"
        terms = []
        for name in sorted(fields.names):
            if name.startswith("_") or name in TIME_SUBSEARCH_FIELDS:
                continue
            if name in VERBATIM_SUBSEARCH_FIELDS:
                terms.append("*")  # inserted as it is: its terms are not known here
            else:
                terms.append(f'"{name}"="{SUBSEARCH_VALUE}"')
        return "( " + " ".join(terms or ["*"]) + " )"

    # ---- the base search

    def _base_search(self, stage: Stage, here: Here) -> tuple[Fields, frozenset[str] | None]:
        """The fields of the events a base search reads, and its sources."""
        node = self._parse_search(stage.args, here, here.ctx.scope)
        if node is None:
            return UNKNOWN, None
        own = sources_of(node, self.knowledge)
        scope = own if own is not None else here.ctx.scope
        if scope is None:
            reason = "the search names no sourcetype (nor index=_internal): what its events carry is unknown"
            self.report(here, Rule.SOURCE, "sourcetype", reason)
            return UNKNOWN, None
        self._check_terms(node, scope, here)
        return self.knowledge.events_fields(scope), scope

    def _parse_search(self, args: str, here: Here, scope: frozenset[str] | None) -> searchexpr.SNode | None:
        try:
            text = self._substitute_subsearches(args, here, scope)
            return searchexpr.parse(text)
        except (SplError, UnsupportedSpl) as exc:
            self.report(here, Rule.FORM, args[:60], f"cannot read the search expression: {exc}")
            return None

    def _check_terms(self, node: searchexpr.SNode, scope: frozenset[str], here: Here) -> None:
        if node.kind == "and":
            own = sources_of(node, self.knowledge)
            inner = scope if own is None else scope & own
            for child in node.children:
                self._check_terms(child, inner, here)
        elif node.kind in ("or", "not"):
            for child in node.children:
                self._check_terms(child, scope, here)
        elif node.kind in ("cmp", "in"):
            values = node.values if node.kind == "in" else (node.value,)
            self._check_term_field(node.field, values, scope, here)

    def _check_term_field(
        self, name: str, values: tuple[str, ...], scope: frozenset[str], here: Here
    ) -> None:
        carried = self.knowledge.events_fields(scope)
        if not carried.has(name):
            if SUBSEARCH_VALUE in values:
                where = "a subsearch returns it, so it is a term of this search"
            else:
                where = "a term of the search"
            names = ", ".join(sorted(scope)) or "none"
            if carried.pending:
                reason = (
                    f"its sources ({names}) are sourcetypes the app does not map: nothing is known "
                    f"to carry it before a `fields` command declares what they promise ({where})"
                )
            else:
                reason = f"no source in scope carries it ({where}; sources: {names})"
            self.report(here, Rule.FIELD, name, reason, Use.FILTER)
            return
        if name in ("tag", "tag::eventtype", "eventtype") and SUBSEARCH_VALUE not in values:
            self._check_tag_values(name, values, scope, here)

    def _check_tag_values(
        self, name: str, values: tuple[str, ...], scope: frozenset[str], here: Here
    ) -> None:
        eventtypes = [e for e in self.knowledge.eventtypes if e.sources is None or e.sources & scope]
        if name == "eventtype":
            given = {e.name for e in eventtypes}
        else:
            given = {t for e in eventtypes for t in e.tags}
        for value in values:
            if not any(fnmatchcase(g.casefold(), value.casefold()) for g in given):
                reason = f"no eventtype of the app over {', '.join(sorted(scope))} gives {name}={value}"
                self.report(here, Rule.TAG, f"{name}={value}", reason, Use.FILTER)

    # ---- commands: filters

    def _search(self, args: str, state: Fields, here: Here) -> Fields:
        node = self._parse_search(args, here, here.ctx.scope)
        if node is None:
            return state
        if searchexpr.has_terms(node):
            self.require(here, state, "_raw", Use.FILTER, "bare search terms match _raw")
        for name in sorted(searchexpr.fields_compared(node)):
            self.require(here, state, name, Use.FILTER)
        return state

    def _where(self, args: str, state: Fields, here: Here) -> Fields:
        for name in sorted(evalexpr.fields_read(evalexpr.parse(args))):
            self.require(here, state, name, Use.FILTER)
        return state

    def _dedup(self, args: str, state: Fields, here: Here) -> Fields:
        parsed = parse_args(args)
        words = [w for w in parsed.words if not w.isdigit()]
        if any(w.lower() == "sortby" for w in words):
            self.report(here, Rule.FORM, "sortby", "dedup sortby is not modelled")
            return state
        # Results without all the fields are removed unless keepempty=true
        # (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/dedup).
        if parsed.options.get("keepempty", "false").lower() in ("true", "1", "t"):
            return state
        for name in words:
            self.require(here, state, name, Use.FILTER, "dedup drops results without it")
        return state

    def _mvexpand(self, args: str, state: Fields, here: Here) -> Fields:
        parsed = parse_args(args)
        if len(parsed.words) != 1:
            self.report(here, Rule.FORM, args, "mvexpand takes one field")
            return state
        # A result without the field yields none (tests/executor/README.md, "Choices").
        self.require(here, state, parsed.words[0], Use.FILTER, "a result without it yields none")
        return state

    # ---- commands: producers

    def _eval(self, args: str, state: Fields, here: Here) -> Fields:
        return state.plus(name for name, _ in eval_assignments(args))

    def _fields(self, args: str, state: Fields, here: Here) -> Fields:
        words = parse_args(args).words
        if words and words[0] == "-":
            removed = words[1:]
            kept = frozenset(n for n in state.names if not any(fnmatchcase(n, w) for w in removed))
            return Fields(kept, state.patterns, state.pending)
        if words and words[0] == "+":
            words = words[1:]
        return self._keep(words, state, keep_internal=True)

    def _table(self, args: str, state: Fields, here: Here) -> Fields:
        return self._keep(parse_args(args).words, state, keep_internal=False)

    def _keep(self, listed: list[str], state: Fields, keep_internal: bool) -> Fields:
        """`fields a b` / `table a b`: the listed fields the results have (internal fields stay
        with `fields`: https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/fields).
        A pending (user-configured) source: the list declares its fields."""
        exact = [w for w in listed if "*" not in w]
        wild = frozenset(w for w in listed if "*" in w)
        if state.pending:
            internal = {n for n in state.names if n.startswith("_")} if keep_internal else set()
            return Fields(frozenset(exact) | frozenset(internal), wild)
        names = {n for n in state.names if any(fnmatchcase(n, w) for w in listed)}
        names |= {w for w in exact if state.has(w)}
        if keep_internal:
            names |= {n for n in state.names if n.startswith("_")}
        return Fields(frozenset(names), wild if state.patterns else frozenset())

    def _rename(self, args: str, state: Fields, here: Here) -> Fields:
        words = parse_args(args).words
        if len(words) % 3 or any(words[i + 1].lower() != "as" for i in range(0, len(words), 3)):
            self.report(here, Rule.FORM, args, "not `<field> AS <new name>` pairs")
            return UNKNOWN
        names = set(state.names)
        for i in range(0, len(words), 3):
            source, target = words[i], words[i + 2]
            if "*" in source or "*" in target:
                self.report(here, Rule.FORM, source, "rename with wildcards is not modelled")
                return UNKNOWN
            present = state.has(source)
            names.discard(source)
            # A result without the source field loses the target (the executor's reading of rename).
            if present:
                names.add(target)
            else:
                names.discard(target)
        return Fields(frozenset(names), state.patterns)

    def _stats(self, args: str, state: Fields, here: Here) -> Fields:
        spec = parse_statistics(args)
        for name in spec.by:
            self.require(here, state, name, Use.GROUP)
        return Fields(frozenset(a.name for a in spec.aggregations) | frozenset(spec.by))

    def _eventstats(self, args: str, state: Fields, here: Here) -> Fields:
        spec = parse_statistics(args)
        for name in spec.by:
            self.require(here, state, name, Use.JOIN)
        return state.plus(a.name for a in spec.aggregations)

    def _timechart(self, args: str, state: Fields, here: Here) -> Fields:
        spec = parse_statistics(args)
        for name in spec.by:
            self.require(here, state, name, Use.GROUP)
        if spec.by:
            # One column per value of the BY field: known only by shape.
            return Fields(frozenset({"_time"}), frozenset({"*"}))
        return Fields(frozenset({"_time"}) | frozenset(a.name for a in spec.aggregations))

    def _tstats(self, args: str, state: Fields, here: Here) -> Fields:
        parts = keyword_parts(args, ("from", "where", "by"))
        spec = parse_statistics(parts[""])
        available = set(INDEXED_FIELDS)
        if "from" in parts:
            match = re.fullmatch(r'datamodel\s*=\s*"?([\w]+)\.([\w.]+)"?', parts["from"])
            if match is None:
                reason = "tstats FROM other than datamodel=<Model>.<Dataset>"
                self.report(here, Rule.FORM, parts["from"], reason)
                return UNKNOWN
            dataset_fields = self._dataset_fields(match.group(1), match.group(2))
            if dataset_fields is None:
                reason = "a data model or data set not vendored in tests/data/executor/datamodels"
                self.report(here, Rule.SOURCE, parts["from"], reason)
                return UNKNOWN
            available |= dataset_fields
        indexed = Fields(frozenset(available))
        if "where" in parts:
            node = self._parse_search(parts["where"], here, here.ctx.scope)
            if node is not None:
                for name in sorted(searchexpr.fields_compared(node)):
                    self.require(here, indexed, name, Use.FILTER, "tstats reads indexed fields only")
        by = by_fields(parts.get("by", ""))
        for name in by:
            self.require(here, indexed, name, Use.GROUP, "tstats reads indexed fields only")
        return Fields(frozenset(a.name for a in spec.aggregations) | frozenset(by))

    def _dataset_fields(self, model: str, dataset: str) -> frozenset[str] | None:
        path = self.knowledge.datamodels_dir / f"{model}.json"
        if not path.is_file():
            return None
        objects = json.loads(path.read_text(encoding="utf-8")).get("objects", [])

        def find(items: list[dict[str, Any]], chain: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
            for item in items:
                here = [*chain, item]
                if item.get("name") == dataset.split(".")[-1]:
                    return here
                found = find(item.get("child_dataset", []), here)
                if found is not None:
                    return found
            return None

        chain = find(objects, [])
        if chain is None:
            return None
        names = [str(f["name"]) for obj in chain for f in obj.get("fields", [])]
        return frozenset(f"{obj['name']}.{n}" for obj in chain for n in names)

    def _lookup(self, args: str, state: Fields, here: Here) -> Fields:
        words = parse_args(args).words
        if not words:
            self.report(here, Rule.FORM, args, "lookup without a table")
            return state
        table = self._table_of(words[0], here)
        rest = words[1:]
        split = next((i for i, w in enumerate(rest) if w.lower() in ("output", "outputnew")), len(rest))
        inputs, outputs = _pairs(rest[:split]), _pairs(rest[split + 1 :])
        if inputs is None or outputs is None:
            self.report(here, Rule.FORM, args, "not `<table> <field> [AS <field>] ... OUTPUT ...`")
            return UNKNOWN
        for column, event_field in inputs:
            self.require(here, state, event_field, Use.JOIN, "a lookup input")
            if table is not None and column not in table.columns:
                reason = f"not a column of {table.name}"
                self.report(here, Rule.LOOKUP_COLUMN, column, reason, Use.JOIN)
        if table is None:
            return UNKNOWN
        for column, _ in outputs:
            if column not in table.columns:
                self.report(here, Rule.LOOKUP_COLUMN, column, f"not a column of {table.name}")
        if split == len(rest):  # no OUTPUT: every column but the inputs
            return state.plus(table.columns - {c for c, _ in inputs})
        return state.plus(target for _, target in outputs)

    def _table_of(self, name: str, here: Here) -> Lookup | None:
        table = self.knowledge.lookups.get(name)
        if table is None:
            reason = "not a lookup of the app (transforms.conf or lookups/*.csv)"
            self.report(here, Rule.SOURCE, name, reason)
        return table

    def _inputlookup(self, args: str, state: Fields, here: Here) -> Fields:
        parts = keyword_parts(args, ("where",))
        parsed = parse_args(parts[""])
        if len(parsed.words) != 1:
            self.report(here, Rule.FORM, args, "inputlookup takes one table")
            return UNKNOWN
        table = self._table_of(parsed.words[0], here)
        columns = Fields(table.columns) if table is not None else UNKNOWN
        if "where" in parts:
            node = self._parse_search(parts["where"], here, here.ctx.scope)
            if node is not None:
                for name in sorted(searchexpr.fields_compared(node)):
                    where = "inputlookup WHERE reads the table's columns"
                    self.require(here, columns, name, Use.FILTER, where)
        if parsed.options.get("append", "false").lower() in ("true", "1", "t", "yes"):
            return state.union(columns)
        return columns

    def _outputlookup(self, args: str, state: Fields, here: Here) -> Fields:
        parsed = parse_args(args)
        if "key_field" in parsed.options:
            self.require(here, state, parsed.options["key_field"], Use.JOIN, "outputlookup key_field")
        if len(parsed.words) != 1:
            self.report(here, Rule.FORM, args, "outputlookup takes one table")
        else:
            self._table_of(parsed.words[0], here)
        return state

    def _bracketed(self, args: str, here: Here) -> list[str] | None:
        """The [subsearch] arguments of append/multisearch/union (options before them)."""
        subs = [t.text[1:-1] for t in tokenize(args) if t.kind == "subsearch"]
        if not subs:
            self.report(here, Rule.FORM, args[:60], "expected [subsearch] arguments")
            return None
        return subs

    def _append(self, args: str, state: Fields, here: Here) -> Fields:
        subs = self._bracketed(args, here)
        if subs is None or len(subs) != 1:
            if subs is not None:
                self.report(here, Rule.FORM, args[:60], "append takes one subsearch")
            return UNKNOWN
        return state.union(self.subsearch(subs[0], here, 1, here.ctx.scope))

    def _multisearch(self, args: str, state: Fields, here: Here) -> Fields:
        subs = self._bracketed(args, here)
        if subs is None:
            return UNKNOWN
        out = EMPTY
        for number, text in enumerate(subs, start=1):
            out = out.union(self.subsearch(text, here, number, here.ctx.scope))
        return out

    def _spath(self, args: str, state: Fields, here: Here) -> Fields:
        parsed = parse_args(args)
        path = parsed.options.get("path") or (parsed.words[0] if parsed.words else None)
        target = parsed.options.get("output") or path
        if target is None:
            self.report(here, Rule.FORM, args or "spath", "spath without path= or output= is not modelled")
            return UNKNOWN
        return state.plus([target])

    def _rex(self, args: str, state: Fields, here: Here) -> Fields:
        parsed = parse_args(args)
        if parsed.options.get("mode", "").lower() == "sed":
            return state
        if len(parsed.words) != 1:
            self.report(here, Rule.FORM, args, "rex takes one regular expression")
            return UNKNOWN
        return state.plus(_NAMED_GROUP.findall(parsed.words[0]))

    def _fillnull(self, args: str, state: Fields, here: Here) -> Fields:
        return state.plus(parse_args(args).words)

    def _unchanged(self, args: str, state: Fields, here: Here) -> Fields:
        return state

    def _transpose(self, args: str, state: Fields, here: Here) -> Fields:
        parsed = parse_args(args)
        column = parsed.options.get("column_name", "column")
        if "header_field" in parsed.options:
            return Fields(frozenset({column}), frozenset({"*"}))
        count = int(parsed.words[0]) if parsed.words and parsed.words[0].isdigit() else 5
        if count == 0:  # every row: `row 1` .. `row N`
            return Fields(frozenset({column}), frozenset({"row *"}))
        return Fields(frozenset({column} | {f"row {i}" for i in range(1, count + 1)}))

    def _addinfo(self, args: str, state: Fields, here: Here) -> Fields:
        return state.plus(ADDINFO_FIELDS)

    def _makeresults(self, args: str, state: Fields, here: Here) -> Fields:
        parsed = parse_args(args)
        names = {"_time"}
        if parsed.options.get("annotate", "false").lower() in ("true", "1", "t"):
            names |= {"host", "source", "sourcetype", "splunk_server", "splunk_server_group"}
        return Fields(frozenset(names))

    def _rest(self, args: str, state: Fields, here: Here) -> Fields:
        words = parse_args(args).words
        if len(words) != 1:
            self.report(here, Rule.FORM, args, "rest takes one endpoint")
            return UNKNOWN
        endpoint = words[0]
        if re.fullmatch(r"/services(?:NS/[^/]+/[^/]+)?/apps/local(?:/[^/]+)?", endpoint):
            return Fields(REST_ENTRY_FIELDS | REST_APP_FIELDS, REST_ENTRY_PATTERNS)
        conf = re.fullmatch(r"/services(?:NS/[^/]+/[^/]+)?/configs/conf-([\w-]+)(?:/[^/]+)?", endpoint)
        if conf is not None:
            spec = self.knowledge.spec(conf.group(1))
            keys = spec.keys_for("stanza") if spec is not None else None
            if keys is None:
                reason = f"no vendored {conf.group(1)}.conf.spec names its keys"
                self.report(here, Rule.SOURCE, endpoint, reason)
                return UNKNOWN
            patterns = frozenset(re.sub(r"<[^<>]*>", "*", k) for k in keys if "<" in k)
            exact = frozenset(k for k in keys if "<" not in k)
            return Fields(REST_ENTRY_FIELDS | exact, REST_ENTRY_PATTERNS | patterns)
        self.report(here, Rule.SOURCE, endpoint, "a REST endpoint the provenance check does not model")
        return UNKNOWN

    def _ingresscorrelate(self, args: str, state: Fields, here: Here) -> Fields:
        for name in EVENT_FIELDS:
            self.require(here, state, name, Use.READ, "a normalized event field ingresscorrelate reads")
        return Fields(INGRESSCORRELATE_OUTPUT)

    def _ingressprefilter(self, args: str, state: Fields, here: Here) -> Fields:
        return Fields(INGRESSPREFILTER_OUTPUT)


def _pairs(words: list[str]) -> list[tuple[str, str]] | None:
    """`a [AS b] c ...` as (a, b-or-a) pairs."""
    out = []
    i = 0
    while i < len(words):
        if words[i].lower() == "as":
            return None
        if i + 2 < len(words) and words[i + 1].lower() == "as":
            out.append((words[i], words[i + 2]))
            i += 3
        else:
            out.append((words[i], words[i]))
            i += 1
    return out


# ------------------------------------------------------------------------------ entry points


def macros_used(text: str, macros: dict[str, Macro]) -> set[str]:
    """The stanzas of every macro a text calls, directly or through other macros."""
    found: set[str] = set()
    pending = [text]
    while pending:
        for call in MACRO_CALL.findall(pending.pop()):
            name, paren, rest = call.strip().partition("(")
            arity = len(split_arguments(rest[: rest.rfind(")")])) if paren else 0
            stanza = f"{name.strip()}({arity})" if paren else name.strip()
            if stanza in macros and stanza not in found:
                found.add(stanza)
                pending.append(macros[stanza].definition)
    return found


def check_text(text: str, origin: str, knowledge: Knowledge) -> list[Violation]:
    """Expand the macros and tokens of one SPL string, then check its provenance."""
    analyzer = Analyzer(knowledge)
    here = Here(Context(origin, None), 0, "macro")
    for stanza in sorted(macros_used(text, knowledge.macros)):
        if knowledge.macros[stanza].iseval:
            reason = "an eval-based macro (iseval): its SPL is computed, so the check cannot read it"
            analyzer.report(here, Rule.FORM, f"`{stanza}`", reason)
    expansion = expand(text, knowledge.macros)
    for macro, reason in expansion.errors:
        analyzer.report(here, Rule.FORM, f"`{macro}`", reason)
    analyzer.pipeline(expansion.text.strip(), Context(origin, None))
    return analyzer.violations


def is_whole_search(text: str, knowledge: Knowledge) -> bool:
    """A macro that is a search of its own: it starts with a generating command, or its base
    search names its sources. Scalars (`300`) and term fragments (`(f=a OR f=b)`) are not."""
    spl = expand(text, knowledge.macros).text.strip()
    if spl.startswith("|"):
        return True
    first_word = spl.split(None, 1)[0].lower() if spl else ""
    if first_word != "search" and first_word in Analyzer(knowledge).handlers:
        return False  # a pipeline fragment (`eval ...`) used at the start of another macro
    try:
        base = split_pipeline(spl)[0].args
        while "[" in base:  # subsearches, innermost first, as a match-all term
            base, count = re.subn(r"\[[^\[\]]*\]", "*", base)
            if not count:
                break
        node = searchexpr.parse(base)
    except (SplError, UnsupportedSpl):
        return True  # let the check report what it cannot read
    return sources_of(node, knowledge) is not None


def searches_to_check(package: Path, knowledge: Knowledge) -> list[SplString]:
    """Saved searches with their drilldowns, dashboard data sources and drilldowns, eventtype
    searches and the macros that are whole searches (props EVALs produce fields: not searches;
    macros used after a pipe are checked inside the searches that use them)."""
    out = []
    for spl in shipped_spl(package):
        if "props.conf" in spl.origin:
            continue
        if "macros.conf" in spl.origin and (spl.pipeline or not is_whole_search(spl.text, knowledge)):
            continue
        out.append(spl)
    return out


def check_shipped(root: Path = ROOT) -> tuple[list[SplString], list[Violation]]:
    knowledge = Knowledge.load(root)
    searches = searches_to_check(root / "package", knowledge)
    violations: list[Violation] = []
    for spl in searches:
        violations += check_text(spl.text, spl.origin, knowledge)
    return searches, violations


__all__ = [
    "Analyzer",
    "Fields",
    "Knowledge",
    "Rule",
    "Use",
    "Violation",
    "check_shipped",
    "check_text",
]
