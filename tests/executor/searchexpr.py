"""The search command's expressions (base search, `| search`, inputlookup WHERE, tstats WHERE,
eventtype searches, data model constraints).

https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/search:
- `field=value`: field names case-sensitive, values case-insensitive, `*` a wildcard (also inside
  quotes); a multivalue field matches when any value matches; `field=*` needs a non-empty value;
  a value in CIDR notation matches IPv4 values inside the network.
- `field!=value` needs the field to exist; `NOT field=value` also keeps events without the field
  (Search Manual, "Difference between NOT and !="). `!=` on a multivalue field is refused: the
  reference does not say how the values combine.
- `<`, `<=`, `>`, `>=`: numeric when both sides are numbers, else lexicographic.
- `field IN (v1, v2, ...)`: any of the values, with wildcards.
- Boolean precedence: NOT, then OR, then AND (implicit AND between terms): "a OR b c" is
  "(a OR b) AND c" (search page, "Boolean expressions").
- Bare terms and quoted phrases match `_raw` on segment boundaries (major and minor breakers of
  the default segmenters.conf), case-insensitively; a wildcard inside a bare term is refused.
- `earliest=`/`latest=` (and `_index_earliest=`/`_index_latest=`) are time modifiers; they are
  refused under OR or NOT (how Splunk combines per-branch time ranges is not documented).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import timeutil
from .errors import SplError, UnsupportedSpl
from .evalexpr import cidr_contains
from .lexer import Token, tokenize
from .values import to_number

Matcher = Callable[[Any], bool]

TIME_FIELDS = frozenset({"earliest", "latest", "_index_earliest", "_index_latest"})
_UNSUPPORTED_MODIFIERS = frozenset(
    {
        "starttime",
        "endtime",
        "startdaysago",
        "starthoursago",
        "startminutesago",
        "startmonthsago",
        "starttimeu",
        "endtimeu",
        "enddaysago",
        "endhoursago",
        "endminutesago",
        "endmonthsago",
        "daysago",
        "hoursago",
        "minutesago",
        "monthsago",
        "searchtimespandays",
        "searchtimespanhours",
        "searchtimespanminutes",
        "searchtimespanmonths",
        "savedsearch",
        "savedsplunk",
        "hosttag",
        "eventtypetag",
        "timeformat",
    }
)
_CIDR = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


@dataclass(frozen=True)
class SNode:
    kind: str  # all, and, or, not, cmp, in, term, time
    children: tuple[SNode, ...] = ()
    field: str = ""
    op: str = ""
    value: str = ""
    values: tuple[str, ...] = ()


ALL = SNode("all")


# ------------------------------------------------------------------------------- parsing


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, offset: int = 0) -> Token | None:
        index = self.i + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise SplError(f"Error in 'search' command: unexpected end of search in {self.text!r}")
        self.i += 1
        return token

    def parse(self) -> SNode:
        node = self.conjunction()
        if self.peek() is not None:
            raise SplError(f"Error in 'search' command: unexpected {self.peek().text!r} in {self.text!r}")
        return node

    def conjunction(self) -> SNode:
        parts: list[SNode] = []
        while True:
            token = self.peek()
            if token is None or (token.kind == "op" and token.text == ")"):
                break
            if token.kind == "word" and token.text == "AND":
                self.take()
                continue
            parts.append(self.disjunction())
        if not parts:
            return ALL
        return parts[0] if len(parts) == 1 else SNode("and", tuple(parts))

    def disjunction(self) -> SNode:
        parts = [self.unary()]
        while True:
            token = self.peek()
            if token is not None and token.kind == "word" and token.text == "OR":
                self.take()
                parts.append(self.unary())
            else:
                break
        return parts[0] if len(parts) == 1 else SNode("or", tuple(parts))

    def unary(self) -> SNode:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text == "NOT":
            self.take()
            return SNode("not", (self.unary(),))
        return self.primary()

    def primary(self) -> SNode:
        token = self.take()
        if token.kind == "op" and token.text == "(":
            node = self.conjunction()
            closing = self.take()
            if closing.text != ")":
                raise SplError(f"Error in 'search' command: unbalanced parentheses in {self.text!r}")
            return node
        if token.kind == "subsearch":
            raise SplError("Error in 'search' command: a subsearch must be expanded before parsing")
        if token.kind not in ("word", "quoted"):
            raise SplError(f"Error in 'search' command: unexpected {token.text!r} in {self.text!r}")
        nxt = self.peek()
        if nxt is not None and nxt.kind == "op" and nxt.text in ("=", "!=", "<", "<=", ">", ">="):
            self.take()
            value = self.take()
            if value.kind not in ("word", "quoted"):
                raise SplError(f"Error in 'search' command: no value after {token.value}{nxt.text}")
            return self._comparison(token.value, nxt.text, value)
        if nxt is not None and nxt.kind == "op" and nxt.text == "==":
            raise SplError(f"Error in 'search' command: '==' is not a search operator ({token.value}==)")
        if nxt is not None and nxt.is_word("in") and token.kind == "word" and nxt.text == "IN":
            following = self.peek(1)
            if following is not None and following.kind == "op" and following.text == "(":
                self.take()
                self.take()
                values: list[str] = []
                while True:
                    item = self.take()
                    if item.kind == "op" and item.text == ")":
                        break
                    if item.kind == "op" and item.text == ",":
                        continue
                    if item.kind not in ("word", "quoted"):
                        raise SplError(f"Error in 'search' command: bad IN list near {item.text!r}")
                    values.append(item.value)
                return SNode("in", field=token.value, values=tuple(values))
        if token.kind == "word":
            upper = token.text.upper()
            if upper.startswith(("TERM(", "CASE(")) or token.text in ("TERM", "CASE"):
                raise UnsupportedSpl(f"search directive {token.text}()")
            if token.text == "*":
                return ALL
        return SNode("term", value=token.value, op="quoted" if token.kind == "quoted" else "")

    def _comparison(self, name: str, op: str, value: Token) -> SNode:
        lowered = name.lower()
        if lowered in _UNSUPPORTED_MODIFIERS:
            raise UnsupportedSpl(f"search modifier {name}=")
        if name in TIME_FIELDS:
            if op != "=":
                raise SplError(f"Error in 'search' command: time modifier {name} needs '='")
            return SNode("time", field=name, value=value.value)
        if "*" in name:
            raise UnsupportedSpl(f"wildcard in a search field name: {name}")
        return SNode("cmp", field=name, op=op, value=value.value)


_PARSED: dict[str, SNode] = {}


def parse(text: str) -> SNode:
    cached = _PARSED.get(text)
    if cached is None:
        cached = _Parser(text).parse()
        _check_time_placement(cached, under=False)
        _PARSED[text] = cached
    return cached


def _check_time_placement(node: SNode, under: bool) -> None:
    if node.kind == "time" and under:
        raise UnsupportedSpl(f"time modifier {node.field}= under OR or NOT")
    for child in node.children:
        _check_time_placement(child, under or node.kind in ("or", "not"))


def time_modifiers(node: SNode) -> list[SNode]:
    if node.kind == "time":
        return [node]
    return [m for child in node.children for m in time_modifiers(child)]


def fields_compared(node: SNode) -> set[str]:
    if node.kind in ("cmp", "in"):
        return {node.field}
    out: set[str] = set()
    for child in node.children:
        out |= fields_compared(child)
    return out


def has_terms(node: SNode) -> bool:
    return node.kind == "term" or any(has_terms(c) for c in node.children)


# ------------------------------------------------------------------------------- matching

_WILDCARD_CACHE: dict[str, Callable[[str], bool]] = {}


def value_matcher(pattern: str) -> Callable[[str], bool]:
    """Case-insensitive match of one value against a search value (`*` = any run)."""
    cached = _WILDCARD_CACHE.get(pattern)
    if cached is not None:
        return cached
    folded = pattern.casefold()
    regex = re.compile(".*".join(re.escape(p) for p in pattern.split("*")), re.IGNORECASE | re.S)
    cidr = "*" not in pattern and _CIDR.match(pattern) is not None

    def result(text: str) -> bool:
        if pattern == "*":
            return text != ""
        if "*" in pattern:
            return regex.fullmatch(text) is not None
        if text.casefold() == folded:
            return True
        return cidr and _IPV4.match(text) is not None and cidr_contains(pattern, text)

    _WILDCARD_CACHE[pattern] = result
    return result


def _values(row: Any, name: str) -> list[str]:
    value = row.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _ordering(op: str, value: str) -> Callable[[str], bool]:
    target_number = to_number(value)

    def check(text: str) -> bool:
        number = to_number(text)
        if number is not None and target_number is not None:
            order = (number > target_number) - (number < target_number)
        else:
            order = (text > value) - (text < value)
        return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[op]

    return check


# Default segmenters.conf: major and minor breakers (Admin Manual, segmenters.conf.spec).
_BREAKERS = set(" \t\n\r[]<>(){}|!;,'\"*&?+") | set("/:=@.-$#%\\_")


def term_matcher(term: str) -> Callable[[str], bool]:
    if "*" in term:
        raise UnsupportedSpl(f"wildcard in a bare search term: {term!r}")
    folded = term.casefold()
    if not folded:
        return lambda raw: True

    def match(raw: str) -> bool:
        text = raw.casefold()
        start = text.find(folded)
        while start >= 0:
            end = start + len(folded)
            before_ok = start == 0 or text[start - 1] in _BREAKERS or folded[0] in _BREAKERS
            after_ok = end == len(text) or text[end] in _BREAKERS or folded[-1] in _BREAKERS
            if before_ok and after_ok:
                return True
            start = text.find(folded, start + 1)
        return False

    return match


@dataclass
class TimeBounds:
    """Evaluated time modifiers of one search: epoch bounds on `_time` and on index time."""

    earliest: float | None = None
    latest: float | None = None
    index_earliest: float | None = None
    index_latest: float | None = None
    seen: set[str] = field(default_factory=set)


def time_bounds(node: SNode, now: float) -> TimeBounds:
    bounds = TimeBounds()
    for modifier in time_modifiers(node):
        when = timeutil.relative(modifier.value, now)
        bounds.seen.add(modifier.field)
        attr = modifier.field.lstrip("_")
        current = getattr(bounds, attr)
        # Several modifiers of one kind in a conjunction: all must hold.
        if attr.endswith("earliest"):
            setattr(bounds, attr, when if current is None else max(current, when))
        else:
            setattr(bounds, attr, when if current is None else min(current, when))
    return bounds


def compile_matcher(node: SNode) -> Matcher:
    """A predicate over a row (anything with `.get`). Time modifiers are not checked here: the
    caller applies `time_bounds` (they are only allowed in top-level conjunctions)."""
    kind = node.kind
    if kind in ("all", "time"):
        return lambda row: True
    if kind == "and":
        parts = [compile_matcher(c) for c in node.children]
        return lambda row: all(p(row) for p in parts)
    if kind == "or":
        parts = [compile_matcher(c) for c in node.children]
        return lambda row: any(p(row) for p in parts)
    if kind == "not":
        inner = compile_matcher(node.children[0])
        return lambda row: not inner(row)
    if kind == "term":
        check = term_matcher(node.value)

        def term(row: Any) -> bool:
            raw = row.get("_raw")
            if raw is None:
                raise UnsupportedSpl(f"bare search term {node.value!r} on results without _raw")
            return check(raw if isinstance(raw, str) else "\n".join(raw))

        return term
    name = node.field
    if kind == "in":
        checks = [value_matcher(v) for v in node.values]
        return lambda row: any(c(v) for v in _values(row, name) for c in checks)
    op, value = node.op, node.value
    if op == "=":
        check = value_matcher(value)
        return lambda row: any(check(v) for v in _values(row, name))
    if op == "!=":
        check = value_matcher(value)

        def not_equal(row: Any) -> bool:
            values = _values(row, name)
            if len(values) > 1:
                raise UnsupportedSpl(f"'{name}!=' on a multivalue field")
            return bool(values) and not check(values[0])

        return not_equal
    ordered = _ordering(op, value)
    return lambda row: any(ordered(v) for v in _values(row, name))


_MATCHERS: dict[str, tuple[SNode, Matcher]] = {}


def compile_search(text: str) -> tuple[SNode, Matcher]:
    cached = _MATCHERS.get(text)
    if cached is None:
        node = parse(text)
        cached = (node, compile_matcher(node))
        _MATCHERS[text] = cached
    return cached
