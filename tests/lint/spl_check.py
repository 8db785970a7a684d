"""Check an SPL string against Splunk's grammar (tests/lint/splgrammar.py) and the app's commands.

The SPL is split into commands at top-level pipes (outside double quotes, [subsearches] and
parentheses); every [subsearch] is checked as an SPL string of its own. A string without a leading
pipe starts with an implicit `search`. For each command:

1. its name is a built-in command of searchbnf.conf (or an alias) or one of the app's own;
2. each top-level `name=value` word is an option its syntax defines, unless the command's
   arguments are an expression (`search`, `where`), its syntax takes any `<field>=...` (`eval`),
   or the word is inside an expression a keyword starts (`tstats ... WHERE ...`);
3. every function called in an eval expression (`eval`, `where`, `fieldformat`, an `eval(...)`
   inside an aggregation) is an eval function of the grammar, and every aggregation of a command
   whose syntax takes `<stats-func>` (stats, eventstats, streamstats, chart, timechart, tstats)
   is a stats function of the grammar.

Literals of the grammar are case-insensitive (its FORMATTING notes), so names are compared
lower-case.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from tests.lint.spl_strings import Macro, SplString, expand
from tests.lint.splgrammar import CommandSyntax, Grammar

OPTION_WORD = re.compile(r"^([A-Za-z_][\w.\-]*)=(?!=)")
AGGREGATION_WORD = re.compile(r"^([A-Za-z_]\w*)(?:\((.*)\))?$", re.S)
FUNCTION_CALL = re.compile(r"(?<![\w$])([A-Za-z_]\w*)\s*\(")
# Where an aggregation list ends: the BY clause, chart's OVER, tstats' FROM.
AGGREGATION_END = frozenset({"by", "over", "groupby", "from"})
# The eval grammar's operators that may stand before a parenthesis ([eval-bool-exp], [eval-compare-exp]).
EVAL_OPERATOR_STANZAS = ("eval-bool-exp", "eval-compare-exp")


class Rule(Enum):
    """What a violation breaks."""

    MACRO = "macro"  # an undefined macro, a wrong argument count, an eval-based macro
    COMMAND = "command"  # not a command of the grammar or of the app
    OPTION = "option"  # a name=value the command's syntax does not define
    EVAL_FUNCTION = "eval function"
    STATS_FUNCTION = "stats function"
    EMPTY = "empty command"


@dataclass(frozen=True)
class Violation:
    rule: Rule
    origin: str
    command: str
    word: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: command `{self.command}`: {self.word!r}: {self.reason}"


Report = Callable[[Rule, str, str], None]  # (rule, offending word, reason)


@dataclass(frozen=True)
class Command:
    name: str
    args: str


def scan(text: str, separator: str | None = None) -> list[str]:
    """Split on `separator` (None: whitespace) outside double quotes, [brackets] and (parentheses)."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote, i = 0, False, 0
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
            depth = max(depth - 1, 0)
            current.append(char)
        elif depth == 0 and (char.isspace() if separator is None else char == separator):
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return parts if separator is not None else [p for p in parts if p]


def subsearches(text: str) -> list[str]:
    """The text of each outermost [subsearch] (outside double quotes), at any parenthesis depth."""
    found, depth, start, quote = [], 0, 0, False
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == '"':
                quote = False
        elif char == '"':
            quote = True
        elif char == "[":
            if depth == 0:
                start = i + 1
            depth += 1
        elif char == "]" and depth:
            depth -= 1
            if depth == 0:
                found.append(text[start:i])
        i += 1
    return found


def without_subsearches(text: str) -> str:
    for inner in subsearches(text):
        text = text.replace("[" + inner + "]", "[]", 1)
    return text


def commands_of(spl: str, pipeline: bool = False) -> list[Command]:
    """The top-level commands; the first stage of a search without a leading pipe is `search`."""
    stages = scan(spl, "|")
    out = []
    leading_pipe = not stages[0].strip()
    for index, stage in enumerate(stages):
        stage = stage.strip()
        if index == 0 and leading_pipe:
            continue
        if index == 0 and not pipeline:
            out.append(Command("search", stage))
            continue
        first = re.split(r"\s", stage, maxsplit=1)
        out.append(Command(first[0], first[1].strip() if len(first) > 1 else ""))
    return out


def eval_function_calls(expression: str) -> list[str]:
    """Names of the functions an eval expression calls: words before `(` outside double-quoted
    strings and single-quoted field names."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expression, flags=re.S)
    text = re.sub(r"'[^']*'", "''", text)
    return FUNCTION_CALL.findall(text)


def aggregation_words(syntax: CommandSyntax, words: list[str]) -> list[str]:
    """The aggregation terms of a stats-like command: its words before BY/OVER/FROM or an
    expression keyword, except options and `AS <name>` renames."""
    out = []
    skip_next = False
    for word in words:
        lowered = word.lower()
        if skip_next:
            skip_next = False
        elif lowered == "as":
            skip_next = True
        elif lowered in AGGREGATION_END or lowered in syntax.expression_keywords:
            break
        elif not OPTION_WORD.match(word):
            out.append(word)
    return out


class Checker:
    """Checks SPL strings against a grammar and the app's own commands."""

    def __init__(self, grammar: Grammar, app_commands: Mapping[str, CommandSyntax]) -> None:
        self.grammar = grammar
        self.app_commands = dict(app_commands)
        self.operators = frozenset(
            word.lower() for stanza in EVAL_OPERATOR_STANZAS for word in grammar.literal_words(stanza)
        )

    def syntax(self, name: str) -> CommandSyntax | None:
        return self.app_commands.get(name.lower()) or self.grammar.command(name)

    def is_command(self, name: str) -> bool:
        return self.syntax(name) is not None

    def lint(self, spl: SplString, macros: Mapping[str, Macro]) -> list[Violation]:
        """Expand the string's macros and tokens, then check it; expansion errors are violations."""
        if spl.iseval:
            reason = "an eval-based macro (iseval): its SPL is computed, so the lint cannot read it"
            return [Violation(Rule.MACRO, spl.origin, "", "iseval", reason)]
        expansion = expand(spl.text, dict(macros))
        violations = [
            Violation(Rule.MACRO, spl.origin, "", f"`{macro}`", reason) for macro, reason in expansion.errors
        ]
        return violations + self.check(expansion.text, spl.origin, spl.pipeline)

    def check(self, spl: str, origin: str, pipeline: bool | None = False) -> list[Violation]:
        if pipeline is None:
            words = spl.split(None, 1)
            pipeline = bool(words) and self.is_command(words[0])
        violations: list[Violation] = []
        for inner in subsearches(spl):
            violations += self.check(inner, origin + " > [subsearch]")
        for command in commands_of(without_subsearches(spl), pipeline):
            violations += self.check_command(command, origin)
        return violations

    def check_command(self, command: Command, origin: str) -> list[Violation]:
        if not command.name:
            reason = "empty command (two pipes in a row, or a pipe at the end)"
            return [Violation(Rule.EMPTY, origin, "", "|", reason)]
        syntax = self.syntax(command.name)
        if syntax is None:
            reason = "not a command of searchbnf.conf, an alias, or one of the app's commands.conf"
            return [Violation(Rule.COMMAND, origin, command.name, command.name, reason)]
        out: list[Violation] = []

        def bad(rule: Rule, word: str, reason: str) -> None:
            out.append(Violation(rule, origin, command.name, word, reason))

        if syntax.expression_arguments == "eval-expression" or syntax.eval_assignments:
            self._check_eval(command.args, bad)
        if syntax.expression_arguments:
            return out
        words = [w.rstrip(",") for w in scan(command.args) if w.rstrip(",")]
        in_expression: str | None = None
        for word in words:
            lowered = word.lower()
            if lowered in syntax.expression_keywords:
                in_expression = syntax.expression_keywords[lowered]
                continue
            if in_expression and lowered not in syntax.keywords:
                if in_expression == "eval-expression":
                    self._check_eval(word, bad)
                continue
            in_expression = None
            match = OPTION_WORD.match(word)
            if match and not syntax.allows_option(match.group(1)):
                reason = f"`{match.group(1)}` is not an option of `{syntax.name}` in its syntax"
                bad(Rule.OPTION, word, reason)
        if syntax.aggregations:
            for word in aggregation_words(syntax, words):
                self._check_aggregation(syntax, word, bad)
        return out

    def _check_aggregation(self, syntax: CommandSyntax, word: str, bad: Report) -> None:
        if word.startswith("("):
            self._check_eval(word, bad)
            return
        match = AGGREGATION_WORD.match(word)
        if not match:
            bad(Rule.STATS_FUNCTION, word, "not an aggregation term `function` or `function(argument)`")
            return
        function, argument = match.group(1), match.group(2)
        if not syntax.is_aggregation(function):
            reason = f"`{function}` is not a stats function of searchbnf.conf for `{syntax.name}`"
            bad(Rule.STATS_FUNCTION, word, reason)
        if argument and argument.strip().lower().startswith("eval("):
            self._check_eval(argument.strip()[len("eval") :], bad)

    def _check_eval(self, expression: str, bad: Report) -> None:
        for name in eval_function_calls(expression):
            lowered = name.lower()
            if lowered in self.operators:
                continue
            if lowered not in self.grammar.eval_functions:
                reason = f"`{name}` is not an eval function of searchbnf.conf [eval-function]"
                bad(Rule.EVAL_FUNCTION, f"{name}(", reason)
