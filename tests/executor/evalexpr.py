"""The eval expression language (eval, where, stats eval(...), props EVAL-).

Semantics from https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/eval
and the "Evaluation functions" pages
(https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/evaluation-functions/...):

- literals: numbers, "strings" (backslash escapes `"` and `\\`), 'field names', bare field names;
- operators, loosest first: OR, XOR, AND, NOT, = == != LIKE IN, < <= > >=, + - ., * / %, unary -;
- `+` adds numbers and concatenates two strings; `.` concatenates (numbers as text); comparisons
  are numeric when both sides are numbers (a field value that looks like a number is one), else
  by code point; any null operand makes an operator's result null; a null condition is not true.
- A multivalue operand of a scalar operator or function is refused (UnsupportedSpl): the
  reference does not say which value such an operator would use.

An expression compiles to a closure `f(row, ctx)`; `row` is anything with `.get(name)`.
Functions outside FUNCTIONS are refused by name.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import jsonflat, timeutil
from .errors import SplError, UnsupportedSpl
from .values import compare_values, format_number, to_number, to_text

Compiled = Callable[[Any, "EvalContext"], Any]


@dataclass
class EvalContext:
    """What eval functions need besides the row: the search's `now()` and a JSON cache."""

    now: float = 0.0
    json_cache: dict[str, Any] = field(default_factory=dict)


_DEFAULT_CONTEXT = EvalContext()

# ------------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<field>'(?:[^'\\]|\\.)*')
    | (?P<op>==|!=|<=|>=|[-+*/%.=<>(),])
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
KEYWORDS = frozenset({"AND", "OR", "NOT", "XOR", "LIKE", "IN"})


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise SplError(f"The expression is malformed: cannot read {text[pos : pos + 30]!r} in {text!r}")
        kind = match.lastgroup
        assert kind is not None
        value = match.group(kind)
        if kind == "word" and value in KEYWORDS:
            kind = "kw"
        out.append((kind, value))
        pos = match.end()
    return out


def eval_string(literal: str) -> str:
    """A double-quoted eval string: `\\"` and `\\\\` are escapes, other backslashes stay."""
    body = literal[1:-1]
    return re.sub(r'\\(["\\])', r"\1", body)


# ------------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Node:
    kind: str  # num, str, field, call, op, neg, not, in
    value: Any
    args: tuple[Node, ...] = ()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise SplError(f"The expression is malformed: expected {value or 'more'!r} in {self.text!r}")
        self.i += 1
        return token

    def at(self, *values: str) -> bool:
        token = self.peek()
        return token is not None and token[1] in values and token[0] in ("op", "kw")

    def parse_all(self) -> Node:
        node = self.expr()
        if self.peek() is not None:
            raise SplError(f"The expression is malformed: unexpected {self.peek()[1]!r} in {self.text!r}")
        return node

    def expr(self) -> Node:
        node = self.xor()
        while self.at("OR"):
            self.take()
            node = Node("op", "OR", (node, self.xor()))
        return node

    def xor(self) -> Node:
        node = self.conj()
        while self.at("XOR"):
            self.take()
            node = Node("op", "XOR", (node, self.conj()))
        return node

    def conj(self) -> Node:
        node = self.negation()
        while self.at("AND"):
            self.take()
            node = Node("op", "AND", (node, self.negation()))
        return node

    def negation(self) -> Node:
        if self.at("NOT"):
            self.take()
            return Node("not", None, (self.negation(),))
        return self.equality()

    def equality(self) -> Node:
        node = self.relational()
        while True:
            if self.at("=", "==", "!=", "LIKE"):
                op = self.take()[1]
                node = Node("op", "==" if op == "=" else op, (node, self.relational()))
            elif self.at("IN"):
                self.take()
                self.take("(")
                items = [self.expr()]
                while self.at(","):
                    self.take()
                    items.append(self.expr())
                self.take(")")
                node = Node("in", None, (node, *items))
            else:
                return node

    def relational(self) -> Node:
        node = self.additive()
        while self.at("<", "<=", ">", ">="):
            op = self.take()[1]
            node = Node("op", op, (node, self.additive()))
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.at("+", "-", "."):
            op = self.take()[1]
            node = Node("op", op, (node, self.multiplicative()))
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.at("*", "/", "%"):
            op = self.take()[1]
            node = Node("op", op, (node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.at("-"):
            self.take()
            return Node("neg", None, (self.unary(),))
        if self.at("+"):
            self.take()
            return self.unary()
        return self.primary()

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "num":
            number = to_number(value)
            assert number is not None
            return Node("num", number)
        if kind == "str":
            return Node("str", eval_string(value))
        if kind == "field":
            return Node("field", re.sub(r"\\(['\\])", r"\1", value[1:-1]))
        if kind == "op" and value == "(":
            node = self.expr()
            self.take(")")
            return node
        if kind == "word":
            if self.at("("):
                self.take("(")
                args: list[Node] = []
                if not self.at(")"):
                    args.append(self.expr())
                    while self.at(","):
                        self.take()
                        args.append(self.expr())
                self.take(")")
                return Node("call", value, tuple(args))
            return Node("field", value)
        raise SplError(f"The expression is malformed: unexpected {value!r} in {self.text!r}")


def parse(text: str) -> Node:
    if not text.strip():
        raise SplError("The expression is malformed: empty expression")
    return _Parser(text).parse_all()


def parse_prefix(text: str, start: int = 0) -> tuple[Node, int]:
    """Parse an expression from `start` up to a top-level comma or the end; returns the node and
    the character index where it stopped (for `eval a=..., b=...`)."""
    depth = 0
    i = start
    while i < len(text):
        char = text[i]
        if char == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif char == "'":
            i += 1
            while i < len(text) and text[i] != "'":
                i += 2 if text[i] == "\\" else 1
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            return parse(text[start:i]), i
        i += 1
    return parse(text[start:]), len(text)


def fields_read(node: Node) -> set[str]:
    if node.kind == "field":
        return {node.value}
    out: set[str] = set()
    for arg in node.args:
        out |= fields_read(arg)
    return out


def functions_used(node: Node) -> set[str]:
    out = {node.value} if node.kind == "call" else set()
    for arg in node.args:
        out |= functions_used(arg)
    return out


# ------------------------------------------------------------------------------- helpers


def _scalar(value: Any, where: str) -> Any:
    """A value an operator or scalar function can use: lists of one value are that value."""
    if isinstance(value, list):
        if len(value) == 1:
            return value[0]
        if not value:
            return None
        raise UnsupportedSpl(
            f"eval: {where} on a multivalue value (which value Splunk uses is not documented)"
        )
    return value


def _truth(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise SplError(f"The expression is malformed: expected a Boolean, got {value!r}")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _mv(values: list[Any]) -> Any:
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def _text(value: Any, where: str) -> str | None:
    value = _scalar(value, where)
    if value is None:
        return None
    if isinstance(value, bool):
        raise SplError(f"eval: {where} expects a string, got a Boolean")
    return to_text(value)


def pcre(pattern: str) -> re.Pattern[str]:
    """A PCRE pattern (as Splunk uses) in Python's dialect: named groups `(?<n>`; the rest of the
    syntax the app uses is common to both."""
    try:
        return _PCRE_CACHE[pattern]
    except KeyError:
        pass
    converted = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern)
    try:
        compiled = re.compile(converted)
    except re.error as exc:
        raise SplError(f"Regex: {exc} in {pattern!r}") from None
    _PCRE_CACHE[pattern] = compiled
    return compiled


_PCRE_CACHE: dict[str, re.Pattern[str]] = {}


def like_pattern(pattern: str) -> re.Pattern[str]:
    """SQL LIKE: `%` any run, `_` one character; case-sensitive
    (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/evaluation-functions/
    comparison-and-conditional-functions, like)."""
    parts = []
    for char in pattern:
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return re.compile("".join(parts), re.S)


# ------------------------------------------------------------------------------- JSON paths


def json_document(text: str, ctx: EvalContext) -> Any:
    cache = ctx.json_cache
    if text in cache:
        return cache[text]
    try:
        doc = jsonflat.loads(text)
    except ValueError:
        doc = _NOT_JSON
    if len(cache) > 4096:
        cache.clear()
    cache[text] = doc
    return doc


_NOT_JSON = object()


def json_text(value: Any) -> str:
    """A JSON value as spath gives it: strings as is, numbers as their JSON text, true/false,
    objects and arrays as compact JSON."""
    if isinstance(value, str):
        return str(value)
    return jsonflat.dumps(value)


def spath_values(doc: Any, path: str) -> list[str]:
    """Values at a spath path: `a.b` steps into objects, `name{}` into every element of an array
    (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/spath)."""
    if doc is _NOT_JSON:
        return []
    steps = [s for s in re.split(r"\.(?![^{]*\})", path) if s != ""] if path else []
    current = [doc]
    for step in steps:
        match = re.fullmatch(r"(.*?)((?:\{\d*\})*)", step)
        assert match is not None
        name, braces = match.group(1), match.group(2)
        if re.search(r"\{\d+\}", braces):
            raise UnsupportedSpl(f"spath array index in path {path!r}")
        nxt = []
        for node in current:
            if name:
                if isinstance(node, dict) and name in node:
                    nxt.append(node[name])
            else:
                nxt.append(node)
        for _ in range(braces.count("{}")):
            expanded = []
            for node in nxt:
                if isinstance(node, list):
                    expanded.extend(node)
            nxt = expanded
        current = nxt
    out = []
    for node in current:
        if node is None:
            continue
        out.append(json_text(node))
    return out


# ------------------------------------------------------------------------------- functions

FUNCTIONS = frozenset(
    {
        "if",
        "case",
        "coalesce",
        "isnull",
        "isnotnull",
        "isnum",
        "true",
        "false",
        "null",
        "tonumber",
        "lower",
        "len",
        "replace",
        "spath",
        "relative_time",
        "now",
        "strftime",
        "strptime",
        "round",
        "floor",
        "ceiling",
        "ceil",
        "max",
        "min",
        "mvdedup",
        "mvappend",
        "mvfilter",
        "mvjoin",
        "mvmap",
        "mvfind",
        "mvzip",
        "mvindex",
        "mvcount",
        "split",
        "like",
        "match",
        "cidrmatch",
        "in",
        "substr",
    }
)
_ARITY = {
    "if": (3, 3),
    "isnull": (1, 1),
    "isnotnull": (1, 1),
    "isnum": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
    "null": (0, 0),
    "tonumber": (1, 2),
    "lower": (1, 1),
    "len": (1, 1),
    "replace": (3, 3),
    "spath": (2, 2),
    "relative_time": (2, 2),
    "now": (0, 0),
    "strftime": (2, 2),
    "strptime": (2, 2),
    "round": (1, 2),
    "floor": (1, 1),
    "ceiling": (1, 1),
    "ceil": (1, 1),
    "mvdedup": (1, 1),
    "mvfilter": (1, 1),
    "mvjoin": (2, 2),
    "mvmap": (2, 2),
    "mvfind": (2, 2),
    "mvzip": (2, 3),
    "mvindex": (2, 3),
    "mvcount": (1, 1),
    "split": (2, 2),
    "like": (2, 2),
    "match": (2, 2),
    "cidrmatch": (2, 2),
    "coalesce": (1, 99),
    "max": (1, 99),
    "min": (1, 99),
    "mvappend": (1, 99),
    "case": (2, 98),
    "in": (2, 99),
    "substr": (2, 3),
}


class _Bound(Mapping[str, Any]):
    """A row with one field rebound to one value (mvfilter, mvmap)."""

    def __init__(self, row: Any, name: str, value: Any) -> None:
        self.row, self.name, self.value = row, name, value

    def get(self, key: str, default: Any = None) -> Any:
        if key == self.name:
            return self.value
        return self.row.get(key, default)

    def __getitem__(self, key: str) -> Any:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Any:
        return iter(self.row)

    def __len__(self) -> int:
        return len(self.row)


def _round_half_away(number: float, digits: int) -> float:
    scale = 10**digits
    return math.floor(abs(number) * scale + 0.5) / scale * (1 if number >= 0 else -1)


def _extreme(values: list[Any], want_max: bool) -> Any:
    """eval max/min: numbers compare numerically, strings by code point, and strings are
    greater than numbers (statistical-eval-functions page). Nulls are skipped."""
    numbers = [n for n in (to_number(v) for v in values) if n is not None]
    strings = [to_text(v) for v in values if v is not None and to_number(v) is None]
    if want_max:
        if strings:
            return max(strings)
        return max(numbers) if numbers else None
    if numbers:
        return min(numbers)
    return min(strings) if strings else None


def _compile_call(node: Node) -> Compiled:
    name = node.value
    if name not in FUNCTIONS:
        raise UnsupportedSpl(f"eval function {name}()")
    low, high = _ARITY[name]
    if not low <= len(node.args) <= high:
        raise SplError(f"The arguments to the '{name}' function are invalid.")
    args = [compile_node(a) for a in node.args]

    if name == "true":
        return lambda row, ctx: True
    if name == "false":
        return lambda row, ctx: False
    if name == "null":
        return lambda row, ctx: None
    if name == "now":
        return lambda row, ctx: ctx.now
    if name == "if":
        cond, yes, no = args

        def if_(row: Any, ctx: EvalContext) -> Any:
            return yes(row, ctx) if _truth(cond(row, ctx)) is True else no(row, ctx)

        return if_
    if name == "case":
        if len(args) % 2:
            raise SplError("The arguments to the 'case' function are invalid: conditions and values pair up.")
        pairs = [(args[i], args[i + 1]) for i in range(0, len(args), 2)]

        def case(row: Any, ctx: EvalContext) -> Any:
            for cond, value in pairs:
                if _truth(cond(row, ctx)) is True:
                    return value(row, ctx)
            return None

        return case
    if name == "coalesce":

        def coalesce(row: Any, ctx: EvalContext) -> Any:
            for arg in args:
                value = arg(row, ctx)
                if value is not None:
                    return value
            return None

        return coalesce
    if name == "mvfilter":
        # https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/evaluation-functions/multivalue-eval-functions:
        # mvfilter's expression refers to exactly one field, evaluated once per value.
        names = fields_read(node.args[0])
        if len(names) != 1:
            raise SplError(f"mvfilter: the expression must refer to exactly one field, got {sorted(names)}")
        (target,) = names
        predicate = args[0]

        def mvfilter(row: Any, ctx: EvalContext) -> Any:
            kept = [v for v in _as_list(row.get(target)) if _truth(predicate(_Bound(row, target, v), ctx))]
            return _mv(kept)

        return mvfilter
    if name == "mvmap":
        if node.args[0].kind != "field":
            raise UnsupportedSpl("mvmap over an expression (only a field is modelled)")
        target = node.args[0].value
        mapper = args[1]

        def mvmap(row: Any, ctx: EvalContext) -> Any:
            values = _as_list(row.get(target))
            if not values:
                return None
            out = []
            for value in values:
                result = mapper(_Bound(row, target, value), ctx)
                out.extend(_as_list(result))
            return _mv(out)

        return mvmap
    if name == "in":
        subject, options = args[0], args[1:]

        def in_(row: Any, ctx: EvalContext) -> Any:
            value = _scalar(subject(row, ctx), "in()")
            if value is None:
                return None
            return any(compare_values(value, _scalar(o(row, ctx), "in()")) == 0 for o in options)

        return in_

    impl = _SIMPLE[name]

    def call(row: Any, ctx: EvalContext) -> Any:
        return impl(ctx, *[a(row, ctx) for a in args])

    return call


def _tonumber(ctx: EvalContext, value: Any, base: Any = None) -> Any:
    value = _scalar(value, "tonumber()")
    if value is None or isinstance(value, bool):
        return None
    if base is None:
        return to_number(value)
    try:
        return int(str(value).strip(), int(to_number(base) or 10))
    except ValueError:
        return None


def _round(ctx: EvalContext, value: Any, digits: Any = 0) -> Any:
    number = to_number(_scalar(value, "round()"))
    if number is None:
        return None
    places = int(to_number(digits) or 0)
    result = _round_half_away(float(number), places)
    return int(result) if places == 0 else result


def _numeric(fn: Callable[[float], Any], where: str) -> Callable[..., Any]:
    def apply(ctx: EvalContext, value: Any) -> Any:
        number = to_number(_scalar(value, where))
        return None if number is None else fn(number)

    return apply


def _replace(ctx: EvalContext, value: Any, regex: Any, replacement: Any) -> Any:
    text = _text(value, "replace()")
    pattern, repl = _text(regex, "replace()"), _text(replacement, "replace()")
    if text is None or pattern is None or repl is None:
        return None
    # PCRE replacement strings use \1 like Python; escape what Python alone would interpret.
    python_repl = re.sub(r"\\(?!\d)", r"\\\\", repl)
    return pcre(pattern).sub(python_repl, text)


def _spath(ctx: EvalContext, value: Any, path: Any) -> Any:
    text, where = _text(value, "spath()"), _text(path, "spath()")
    if text is None or where is None:
        return None
    return _mv(spath_values(json_document(text, ctx), where))


def _relative_time(ctx: EvalContext, when: Any, spec: Any) -> Any:
    number = to_number(_scalar(when, "relative_time()"))
    modifier = _text(spec, "relative_time()")
    if number is None or modifier is None:
        return None
    return timeutil.relative(modifier, float(number))


def _strftime(ctx: EvalContext, when: Any, fmt: Any) -> Any:
    number = to_number(_scalar(when, "strftime()"))
    text = _text(fmt, "strftime()")
    if number is None or text is None:
        return None
    return timeutil.strftime(float(number), text)


def _strptime(ctx: EvalContext, value: Any, fmt: Any) -> Any:
    text, pattern = _text(value, "strptime()"), _text(fmt, "strptime()")
    if text is None or pattern is None:
        return None
    return timeutil.strptime(text, pattern)


def _mvindex(ctx: EvalContext, value: Any, start: Any, end: Any = None) -> Any:
    values = _as_list(value)
    if not values:
        return None
    first = to_number(_scalar(start, "mvindex()"))
    if first is None:
        return None
    count = len(values)
    first = int(first) + count if first < 0 else int(first)
    if end is None:
        return values[first] if 0 <= first < count else None
    last_number = to_number(_scalar(end, "mvindex()"))
    if last_number is None:
        return None
    last = int(last_number) + count if last_number < 0 else int(last_number)
    if first < 0 or first >= count or last < first:
        return None
    return _mv(values[first : min(last, count - 1) + 1])


def _mvdedup(ctx: EvalContext, value: Any) -> Any:
    seen: list[Any] = []
    for item in _as_list(value):
        if item not in seen:
            seen.append(item)
    return _mv(seen)


def _mvappend(ctx: EvalContext, *values: Any) -> Any:
    out: list[Any] = []
    for value in values:
        out.extend(_as_list(value))
    return _mv(out)


def _mvjoin(ctx: EvalContext, value: Any, delimiter: Any) -> Any:
    values = _as_list(value)
    sep = _text(delimiter, "mvjoin()")
    if not values or sep is None:
        return None
    return sep.join(to_text(v) or "" for v in values)


def _mvfind(ctx: EvalContext, value: Any, regex: Any) -> Any:
    pattern = _text(regex, "mvfind()")
    if pattern is None:
        return None
    compiled = pcre(pattern)
    for index, item in enumerate(_as_list(value)):
        if compiled.search(to_text(item) or ""):
            return index
    return None


def _mvzip(ctx: EvalContext, left: Any, right: Any, delimiter: Any = ",") -> Any:
    a, b = _as_list(left), _as_list(right)
    sep = _text(delimiter, "mvzip()") or ","
    if not a or not b:
        return None
    return _mv([f"{to_text(x)}{sep}{to_text(y)}" for x, y in zip(a, b)])


def _mvcount(ctx: EvalContext, value: Any) -> Any:
    values = _as_list(value)
    return len(values) if values else None


def _split(ctx: EvalContext, value: Any, delimiter: Any) -> Any:
    text, sep = _text(value, "split()"), _text(delimiter, "split()")
    if text is None or sep is None:
        return None
    if sep == "":
        return _mv(list(text))
    return _mv(text.split(sep))


def _like(ctx: EvalContext, value: Any, pattern: Any) -> Any:
    text, like = _text(value, "like()"), _text(pattern, "like()")
    if text is None or like is None:
        return None
    return like_pattern(like).fullmatch(text) is not None


def _match(ctx: EvalContext, value: Any, regex: Any) -> Any:
    text, pattern = _text(value, "match()"), _text(regex, "match()")
    if text is None or pattern is None:
        return None
    return pcre(pattern).search(text) is not None


def _cidrmatch(ctx: EvalContext, cidr: Any, ip: Any) -> Any:
    network_text, address_text = _text(cidr, "cidrmatch()"), _text(ip, "cidrmatch()")
    if network_text is None or address_text is None:
        return None
    return cidr_contains(network_text, address_text)


def cidr_contains(network_text: str, address_text: str) -> bool:
    try:
        network = ipaddress.ip_network(network_text, strict=False)
        address = ipaddress.ip_address(address_text.strip())
    except ValueError:
        return False
    return address.version == network.version and address in network


def _substr(ctx: EvalContext, value: Any, start: Any, length: Any = None) -> Any:
    """SQLite's substr, as the text-functions page says: 1-based, a negative start counts from
    the end, no length: the rest of the text."""
    text = _text(value, "substr()")
    first = to_number(_scalar(start, "substr()"))
    if text is None or first is None:
        return None
    first = int(first)
    begin = first - 1 if first > 0 else len(text) + first if first < 0 else -1
    if length is None:
        end = len(text)
    else:
        count = to_number(_scalar(length, "substr()"))
        if count is None:
            return None
        if count < 0:
            raise UnsupportedSpl("substr() with a negative length")
        end = begin + int(count)
    begin, end = max(begin, 0), min(max(end, 0), len(text))
    return text[begin:end] if end > begin else ""


def _isnum(ctx: EvalContext, value: Any) -> Any:
    value = _scalar(value, "isnum()")
    return value is not None and not isinstance(value, bool) and to_number(value) is not None


def _len(ctx: EvalContext, value: Any) -> Any:
    text = _text(value, "len()")
    return None if text is None else len(text)


def _lower(ctx: EvalContext, value: Any) -> Any:
    text = _text(value, "lower()")
    return None if text is None else text.lower()


_SIMPLE: dict[str, Callable[..., Any]] = {
    "isnull": lambda ctx, v: v is None,
    "isnotnull": lambda ctx, v: v is not None,
    "isnum": _isnum,
    "tonumber": _tonumber,
    "lower": _lower,
    "len": _len,
    "replace": _replace,
    "spath": _spath,
    "relative_time": _relative_time,
    "strftime": _strftime,
    "strptime": _strptime,
    "round": _round,
    "floor": _numeric(lambda n: math.floor(n), "floor()"),
    "ceiling": _numeric(lambda n: math.ceil(n), "ceiling()"),
    "ceil": _numeric(lambda n: math.ceil(n), "ceil()"),
    "max": lambda ctx, *vs: _extreme([x for v in vs for x in _as_list(v)], True),
    "min": lambda ctx, *vs: _extreme([x for v in vs for x in _as_list(v)], False),
    "mvdedup": _mvdedup,
    "mvappend": _mvappend,
    "mvjoin": _mvjoin,
    "mvfind": _mvfind,
    "mvzip": _mvzip,
    "mvindex": _mvindex,
    "mvcount": _mvcount,
    "split": _split,
    "like": _like,
    "match": _match,
    "cidrmatch": _cidrmatch,
    "substr": _substr,
}


# ------------------------------------------------------------------------------- operators


def _arith(op: str, a: Any, b: Any) -> Any:
    a, b = _scalar(a, f"operator {op}"), _scalar(b, f"operator {op}")
    if a is None or b is None:
        return None
    if op == ".":
        left, right = to_text(a), to_text(b)
        return None if left is None or right is None else left + right
    x, y = to_number(a), to_number(b)
    if op == "+" and (x is None or y is None):
        # "+" concatenates two strings (eval page, "Operators"); a string and a number: null.
        if isinstance(a, str) and isinstance(b, str) and x is None and y is None:
            return a + b
        return None
    if x is None or y is None:
        return None
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        if y == 0:
            return None
        result = x / y
        return int(result) if isinstance(x, int) and isinstance(y, int) and result.is_integer() else result
    if op == "%":
        return (
            None
            if y == 0
            else math.fmod(x, y)
            if isinstance(x, float) or isinstance(y, float)
            else (int(math.fmod(x, y)))
        )
    raise AssertionError(op)


def _compare(op: str, a: Any, b: Any) -> Any:
    if op == "==" and type(a) is str and type(b) is str:
        if a == b:
            return True
        if not (a[:1] in _NUMERIC_START and b[:1] in _NUMERIC_START):
            return False  # not both numbers: text comparison, and the texts differ
    a, b = _scalar(a, f"operator {op}"), _scalar(b, f"operator {op}")
    if isinstance(a, bool) or isinstance(b, bool):
        if op in ("==", "!=") and isinstance(a, bool) and isinstance(b, bool):
            return (a == b) if op == "==" else (a != b)
        raise SplError(f"The expression is malformed: operator {op} on a Boolean")
    if op == "LIKE":
        if a is None or b is None:
            return None
        return like_pattern(to_text(b) or "").fullmatch(to_text(a) or "") is not None
    order = compare_values(a, b)
    if order is None:
        return None
    if op == "==":
        return order == 0
    if op == "!=":
        return order != 0
    if op == "<":
        return order < 0
    if op == "<=":
        return order <= 0
    if op == ">":
        return order > 0
    return order >= 0


_NUMERIC_START = frozenset("0123456789+-. ")


def compile_node(node: Node) -> Compiled:
    kind = node.kind
    if kind in ("num", "str"):
        constant = node.value
        return lambda row, ctx: constant
    if kind == "field":
        name = node.value
        return lambda row, ctx: row.get(name)
    if kind == "call":
        return _compile_call(node)
    if kind == "neg":
        inner = compile_node(node.args[0])

        def neg(row: Any, ctx: EvalContext) -> Any:
            number = to_number(_scalar(inner(row, ctx), "unary -"))
            return None if number is None else -number

        return neg
    if kind == "not":
        inner = compile_node(node.args[0])

        def not_(row: Any, ctx: EvalContext) -> Any:
            value = _truth(inner(row, ctx))
            return None if value is None else not value

        return not_
    if kind == "in":
        return _compile_call(Node("call", "in", node.args))
    op = node.value
    left, right = (compile_node(a) for a in node.args)
    if op == "AND":

        def and_(row: Any, ctx: EvalContext) -> Any:
            a = _truth(left(row, ctx))
            if a is False:
                return False
            b = _truth(right(row, ctx))
            if b is False:
                return False
            return None if a is None or b is None else True

        return and_
    if op == "OR":

        def or_(row: Any, ctx: EvalContext) -> Any:
            a = _truth(left(row, ctx))
            if a is True:
                return True
            b = _truth(right(row, ctx))
            if b is True:
                return True
            return None if a is None or b is None else False

        return or_
    if op == "XOR":

        def xor(row: Any, ctx: EvalContext) -> Any:
            a, b = _truth(left(row, ctx)), _truth(right(row, ctx))
            return None if a is None or b is None else a != b

        return xor
    if op in ("+", "-", "*", "/", "%", "."):
        return lambda row, ctx: _arith(op, left(row, ctx), right(row, ctx))
    return lambda row, ctx: _compare(op, left(row, ctx), right(row, ctx))


@dataclass(frozen=True)
class Expression:
    text: str
    node: Node
    fn: Compiled

    def __call__(self, row: Any, ctx: EvalContext | None = None) -> Any:
        return self.fn(row, ctx or _DEFAULT_CONTEXT)


_COMPILED: dict[str, Expression] = {}


def compile_expression(text: str) -> Expression:
    cached = _COMPILED.get(text)
    if cached is None:
        node = parse(text)
        cached = Expression(text, node, compile_node(node))
        _COMPILED[text] = cached
    return cached


def format_result(value: Any) -> Any:
    """For tests and messages: a value as field text."""
    if isinstance(value, list):
        return [format_result(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(value)
    return value
