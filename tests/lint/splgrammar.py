"""A reader of Splunk's searchbnf.conf: the commands, their options, the eval and stats functions.

searchbnf.conf is Splunk's own pseudo-BNF of every built-in search command (its header, and
searchbnf.conf.spec, describe the format): `[<name>-command]` stanzas with a `syntax =` line and an
optional `alias =` list; `<name>` in a syntax refers to the stanza `[name]` (`<type:label>` to the
stanza of its type); `(`, `)`, `|`, `?`, `*`, `+` group and repeat; everything else, quoted or
not, is a literal, and "all literals are case-insensitive". This module reads from it:

- the command names and their aliases;
- for each command, the `name=` options its syntax allows (following `<...>` references into other
  stanzas), whether it accepts any `name=value` (a `<field>=<...>` term: `eval`, `rest`'s get
  arguments), whether its arguments are an expression (`search <logical-expression>`,
  `where <eval-expression>`), and which keywords start an expression (`tstats ... WHERE`,
  `inputlookup ... where`);
- the eval functions (`[eval-function]`) and the stats functions (`[stats-func]` and the stanzas
  it names; `perc<num>`-style ones as prefixes), plus the aggregation forms a command's syntax
  reaches (`per_second(...)` of timechart, `sparkline(...)`).

References to expressions are not followed: a `<logical-expression>` allows `field=value` search
terms, which are not options of the command that contains it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

# Stanzas that stand for an expression (search terms or an eval expression), and the label
# inputlookup gives its search filter (`where <string:search-query>`).
EXPRESSION_NAMES = frozenset({"logical-expression", "eval-expression", "search-query"})
EVAL_EXPRESSION = "eval-expression"
# The stanzas that list aggregation functions: [stats-func] (stats, eventstats, streamstats,
# chart, timechart, tstats), timechart's per_* functions and stats' sparkline.
STATS_FUNC_STANZA = "stats-func"
AGGREGATION_STANZAS = ("stats-func", "single-agg", "timechart-single-agg", "sparkline-agg")
EVAL_FUNCTION_STANZA = "eval-function"
# Stanzas whose `exampleN` lines show eval functions in use: [eval-command]'s example3 calls `in(...)`
# ("Combines the 'in' function with the 'if' function"), which the [eval-function] list omits.
EVAL_EXAMPLE_STANZAS = ("eval-function", "eval-command")
EXAMPLE_CALL = re.compile(r"(?<![\w$])([A-Za-z_]\w*)\s*\(")
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
NUMBER_TYPES = frozenset({"num", "int"})
GROUPING = frozenset("()|?*+")

SYNTAX_TOKEN = re.compile(r'<[^<>]*>|"(?:[^"\\]|\\.)*"|[()|?*+]|[^\s<>"()|?*+]+')
OPTION_RUN = re.compile(r"^([A-Za-z_][\w.\-]*)=")
WORD_RUN = re.compile(r"^[A-Za-z_][\w\-]*$")


class GrammarError(Exception):
    """searchbnf.conf could not be read as this module expects."""


class Kind(Enum):
    REF = "ref"  # <name>
    QUOTED = "quoted"  # "literal"
    GROUP = "group"  # one of ()|?*+
    RUN = "run"  # an unquoted literal


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str

    @property
    def ref_names(self) -> tuple[str, str]:
        """(type, label) of a `<type:label=default>` reference; label is type when there is none."""
        inner = self.text[1:-1].split("=", 1)[0]
        kind, _, label = inner.partition(":")
        return kind.strip(), (label or kind).strip()


def tokenize(syntax: str) -> list[Token]:
    tokens = []
    for match in SYNTAX_TOKEN.finditer(syntax):
        text = match.group(0)
        if text.startswith("<"):
            tokens.append(Token(Kind.REF, text))
        elif text.startswith('"'):
            tokens.append(Token(Kind.QUOTED, text[1:-1]))
        elif text in GROUPING:
            tokens.append(Token(Kind.GROUP, text))
        else:
            tokens.append(Token(Kind.RUN, text))
    return tokens


def read_stanzas(text: str) -> dict[str, dict[str, str]]:
    """Stanzas of a .conf text: `#` comments, `key = value`, a trailing backslash continues a line.
    A repeated stanza or key: the last one wins (as Splunk merges them)."""
    stanzas: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        while line.rstrip().endswith("\\") and i < len(lines):
            line = line.rstrip()[:-1] + " " + lines[i]
            i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stanzas.setdefault(stripped[1:-1].strip(), {})
            continue
        key, sep, value = stripped.partition("=")
        if current is not None and sep:
            current[key.strip()] = value.strip()
    return stanzas


@dataclass(frozen=True)
class CommandSyntax:
    """What the grammar says about one command's arguments."""

    name: str
    options: frozenset[str]  # lower-case names of `name=` options
    any_option: bool  # a `<field>=...` term: every name=value is allowed
    expression_arguments: str | None  # "eval-expression"/"logical-expression" when the args are one
    expression_keywords: dict[str, str]  # lower-case keyword -> the expression kind it starts
    keywords: frozenset[str]  # lower-case literal words of the syntax (by, as, output, ...)
    aggregations: frozenset[str]  # lower-case aggregation functions it takes (empty: none)
    aggregation_prefixes: frozenset[str]  # perc, p, exactperc, upperperc: followed by a number
    eval_assignments: bool  # `<field>=<eval-expression>` terms (eval, fieldformat)

    def allows_option(self, name: str) -> bool:
        return self.any_option or name.lower() in self.options

    def is_aggregation(self, name: str) -> bool:
        lowered = name.lower()
        if lowered in self.aggregations:
            return True
        match = re.match(r"^([a-z_]+?)(\d+(?:\.\d+)?)$", lowered)
        return bool(match) and match.group(1) in self.aggregation_prefixes


@dataclass
class Grammar:
    stanzas: dict[str, dict[str, str]]
    commands: dict[str, str] = field(default_factory=dict)  # lower-case name or alias -> command
    eval_functions: frozenset[str] = frozenset()
    _syntax_cache: dict[str, CommandSyntax] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Grammar:
        grammar = cls(read_stanzas(path.read_text(encoding="utf-8")))
        for stanza, keys in grammar.stanzas.items():
            if not stanza.endswith("-command"):
                continue
            name = stanza[: -len("-command")]
            grammar.commands[name.lower()] = name
            for alias in re.split(r"[,\s]+", keys.get("alias", "")):
                if alias:
                    grammar.commands[alias.lower()] = name
        if not grammar.commands:
            raise GrammarError(f"{path}: no [<name>-command] stanza")
        listed = {w.lower() for w in grammar.literal_words(EVAL_FUNCTION_STANZA)}
        if not listed:
            raise GrammarError(f"{path}: [{EVAL_FUNCTION_STANZA}] lists no function")
        grammar.eval_functions = frozenset(listed | grammar.example_calls(EVAL_EXAMPLE_STANZAS))
        return grammar

    def example_calls(self, stanzas: tuple[str, ...]) -> set[str]:
        """Lower-case names of the functions the `exampleN` lines of these stanzas call."""
        names: set[str] = set()
        for stanza in stanzas:
            for key, value in self.stanzas.get(stanza, {}).items():
                if re.fullmatch(r"example\d*", key):
                    names.update(n.lower() for n in EXAMPLE_CALL.findall(QUOTED.sub('""', value)))
        return names

    def syntax_of(self, stanza: str) -> str:
        keys = self.stanzas.get(stanza)
        if keys is None:
            raise GrammarError(f"searchbnf.conf has no stanza [{stanza}]")
        return keys.get("syntax") or keys.get("simplesyntax", "")

    def literal_words(self, stanza: str) -> list[str]:
        """The unquoted literal words of a stanza's syntax (an alternation such as `a|b|c`)."""
        tokens = tokenize(self.syntax_of(stanza))
        return [t.text for t in tokens if t.kind is Kind.RUN and WORD_RUN.match(t.text)]

    def reachable(self, stanza: str) -> list[str]:
        """The stanza and every stanza its syntax refers to, transitively, except expressions."""
        seen: list[str] = []
        pending = [stanza]
        while pending:
            name = pending.pop()
            if name in seen or name not in self.stanzas:
                continue
            seen.append(name)
            for token in tokenize(self.syntax_of(name)):
                if token.kind is Kind.REF:
                    kind, label = token.ref_names
                    if not EXPRESSION_NAMES & {kind, label}:
                        pending.append(kind)
        return seen

    def command(self, name: str) -> CommandSyntax | None:
        """The syntax of a built-in command (or alias), None when the grammar has no such command."""
        canonical = self.commands.get(name.lower())
        if canonical is None:
            return None
        if canonical not in self._syntax_cache:
            self._syntax_cache[canonical] = self.syntax_of_command(canonical)
        return self._syntax_cache[canonical]

    def syntax_of_command(self, name: str) -> CommandSyntax:
        stanza = name + "-command"
        options: set[str] = set()
        keywords: set[str] = set()
        expression_keywords: dict[str, str] = {}
        any_option = eval_assignments = False
        reached = self.reachable(stanza)
        for part in reached:
            # Parentheses only group: `(name=<x>)?` and `name=<x>` declare the same option.
            tokens = tokenize(self.syntax_of(part))
            tokens = [t for t in tokens if not (t.kind is Kind.GROUP and t.text in "()")]
            for index, token in enumerate(tokens):
                previous = tokens[index - 1] if index else None
                following = tokens[index + 1] if index + 1 < len(tokens) else None
                if token.kind is Kind.RUN and (match := OPTION_RUN.match(token.text)):
                    options.add(match.group(1).lower())
                elif token.kind in (Kind.RUN, Kind.QUOTED) and token.text in ("=", "!=") and previous:
                    if previous.kind is Kind.REF:
                        any_option = True
                        eval_assignments |= bool(following and EVAL_EXPRESSION in following.ref_names)
                elif token.kind is Kind.RUN and WORD_RUN.match(token.text):
                    keywords.add(token.text.lower())
                    if following is not None and following.kind is Kind.REF:
                        kind = _expression_kind(following)
                        if kind:
                            expression_keywords[token.text.lower()] = kind
        keywords.discard(name.lower())
        expression_keywords.pop(name.lower(), None)
        aggregations, prefixes = self._aggregations(reached)
        return CommandSyntax(
            name=name,
            options=frozenset(options),
            any_option=any_option,
            expression_arguments=self._leading_expression(stanza),
            expression_keywords=expression_keywords,
            keywords=frozenset(keywords),
            aggregations=aggregations,
            aggregation_prefixes=prefixes,
            eval_assignments=eval_assignments,
        )

    def _leading_expression(self, stanza: str) -> str | None:
        """The expression kind when the command's first argument is an expression (search, where)."""
        tokens = [t for t in tokenize(self.syntax_of(stanza)) if t.kind is not Kind.GROUP]
        return _expression_kind(tokens[1]) if len(tokens) > 1 and tokens[1].kind is Kind.REF else None

    def _aggregations(self, reached: list[str]) -> tuple[frozenset[str], frozenset[str]]:
        if STATS_FUNC_STANZA not in reached:
            return frozenset(), frozenset()
        names: set[str] = set()
        prefixes: set[str] = set()
        for entry in AGGREGATION_STANZAS:
            if entry not in reached:
                continue
            for part in self.reachable(entry) if entry == STATS_FUNC_STANZA else [entry]:
                tokens = tokenize(self.syntax_of(part))
                words = {t.text.lower() for t in tokens if t.kind is Kind.RUN and WORD_RUN.match(t.text)}
                numbered = any(t.kind is Kind.REF and t.ref_names[0] in NUMBER_TYPES for t in tokens)
                (prefixes if numbered else names).update(words)
        return frozenset(names), frozenset(prefixes)


def _expression_kind(token: Token) -> str | None:
    kind, label = token.ref_names
    for name in (kind, label):
        if name in EXPRESSION_NAMES:
            return "logical-expression" if name == "search-query" else name
    return None


# ------------------------------------------------------------------------------ the app's commands


def declared_options(script: Path) -> frozenset[str]:
    """The options a splunklib command script declares: the `name = Option(...)` attributes of the
    class it dispatches (`dispatch(Cls, ...)`) and of its base classes in the same script, or of
    every class when it dispatches none. `Option(name="x")` renames the option. Read by parsing the
    script, never importing it."""
    tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
    classes = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    pending = [
        node.args[0].id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and _call_name(node.func) == "dispatch"
        and node.args
        and isinstance(node.args[0], ast.Name)
    ] or list(classes)
    chosen: list[ast.ClassDef] = []
    while pending:
        node = classes.get(pending.pop())
        if node is not None and node not in chosen:
            chosen.append(node)
            pending.extend(base.id for base in node.bases if isinstance(base, ast.Name))
    options: set[str] = set()
    for node in chosen:
        for statement in node.body:
            if not (
                isinstance(statement, ast.Assign)
                and isinstance(statement.value, ast.Call)
                and _call_name(statement.value.func) == "Option"
            ):
                continue
            renamed = [
                k.value.value
                for k in statement.value.keywords
                if k.arg == "name" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)
            ]
            targets = [t.id for t in statement.targets if isinstance(t, ast.Name)]
            options.update(renamed or targets)
    return frozenset(options)


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def custom_command(name: str, options: frozenset[str]) -> CommandSyntax:
    """The syntax of one of the app's own commands: `name=value` options only."""
    return CommandSyntax(
        name=name,
        options=frozenset(o.lower() for o in options),
        any_option=False,
        expression_arguments=None,
        expression_keywords={},
        keywords=frozenset(),
        aggregations=frozenset(),
        aggregation_prefixes=frozenset(),
        eval_assignments=False,
    )


def app_commands(default_dir: Path, bin_dir: Path) -> dict[str, CommandSyntax]:
    """The app's own commands (stanzas of default/commands.conf), each with the options its script
    declares (a Python splunklib script) or, for another script, its default/searchbnf.conf syntax."""
    commands_conf = default_dir / "commands.conf"
    if not commands_conf.is_file():
        return {}
    searchbnf = default_dir / "searchbnf.conf"
    app_grammar = None
    if searchbnf.is_file():
        app_grammar = Grammar(read_stanzas(searchbnf.read_text(encoding="utf-8")))
    out = {}
    for name, keys in read_stanzas(commands_conf.read_text(encoding="utf-8")).items():
        if name == "default":
            continue
        script = bin_dir / keys.get("filename", "")
        if script.suffix == ".py" and script.is_file():
            out[name.lower()] = custom_command(name, declared_options(script))
        elif app_grammar is not None and f"{name}-command" in app_grammar.stanzas:
            out[name.lower()] = app_grammar.syntax_of_command(name)
        else:
            raise GrammarError(
                f"commands.conf [{name}]: neither a Python script nor a searchbnf.conf syntax "
                "declares its options"
            )
    return out


def app_searchbnf_options(default_dir: Path) -> dict[str, frozenset[str]]:
    """{command: options} of the app's own default/searchbnf.conf `[<name>-command]` syntaxes."""
    searchbnf = default_dir / "searchbnf.conf"
    if not searchbnf.is_file():
        return {}
    grammar = Grammar(read_stanzas(searchbnf.read_text(encoding="utf-8")))
    return {
        stanza[: -len("-command")].lower(): grammar.syntax_of_command(stanza[: -len("-command")]).options
        for stanza in grammar.stanzas
        if stanza.endswith("-command")
    }
