"""A small model of Splunk's search-time field pipeline, to check the rendered props offline.

It parses the `eval` expressions the renderer writes (string and number literals, 'fields', bare
default fields, `.`, `+`, `==`, AND, and the functions below) and evaluates a props stanza on a
JSON event as Splunk orders it: KV_MODE=json extraction (numbers as their JSON text, true/false
as strings, arrays as multivalue `name{}`), then every FIELDALIAS, then every EVAL in parallel
over those fields. An unknown function or token is an error, so the test also proves the
rendered SPL stays inside this vocabulary.

Documented semantics it follows (Splunk 10.4 props.conf.spec and search reference):
- FIELDALIAS `a AS b`: b takes a's value; when a is absent, b is removed (since 7.2.4,
  https://help.splunk.com/splunk-enterprise/release-notes-and-updates/release-notes/9.4/known-issues-for-this-release/field-alias-behavior-change);
- `mvmap(X, Y)`: Y evaluated once per value of the field X, X's name standing for the value;
  (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/evaluation-functions/multivalue-eval-functions);
  the model knows mvmap over a field only;
- `round(X)`: half away from zero; `split(X, sep)`, `mvindex(X, n)` (negative n from the end);
  `<=`/`>=` compare numbers, a null is not comparable (the mathematical and multivalue function
  pages of the same reference);
- `match(X, regex)`: whether the regex matches X; `mvfind(X, regex)`: the index of the first value of
  X it matches, null when none does (the text and multivalue function pages);
- `in(X, v...)`: X equals one of the values
  (https://help.splunk.com/splunk-cloud-platform/spl-search-reference/9.3.2408/evaluation-functions/comparison-and-conditional-functions).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Union

FUNCTIONS = frozenset(
    {
        "coalesce",
        "case",
        "if",
        "isnotnull",
        "isnull",
        "mvindex",
        "mvcount",
        "tonumber",
        "lower",
        "len",
        "replace",
        "spath",
        "true",
        "null",
        "in",
        "mvmap",
        "round",
        "split",
        "match",
        "mvfind",
    }
)
TOKEN = re.compile(
    r"\s*(?:(?P<str>\"(?:[^\"\\]|\\.)*\")|(?P<num>-?\d+(?:\.\d+)?)|(?P<field>'[^']*')"
    r"|(?P<op>==|<=|>=|[().,+=*])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)

Value = Union[str, float, bool, list, None]


@dataclass
class Node:
    kind: str  # str, num, field, call, op
    value: str
    args: tuple[Node, ...] = ()


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"cannot read SPL at {text[pos : pos + 30]!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ValueError(f"expected {value!r}, got {token!r}")
        self.i += 1
        return token

    def parse(self) -> Node:
        node = self.conjunction()
        if self.peek() is not None:
            raise ValueError(f"trailing {self.peek()!r}")
        return node

    def conjunction(self) -> Node:
        node = self.comparison()
        while self.peek() == ("word", "AND"):
            self.take()
            node = Node("op", "AND", (node, self.comparison()))
        return node

    def comparison(self) -> Node:
        node = self.additive()
        if self.peek() in (("op", "=="), ("op", "<="), ("op", ">=")):
            op = self.take()[1]
            node = Node("op", op, (node, self.additive()))
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.peek() in (("op", "."), ("op", "+")):
            op = self.take()[1]
            node = Node("op", op, (node, self.multiplicative()))
        return node

    def multiplicative(self) -> Node:
        node = self.atom()
        while self.peek() == ("op", "*"):
            self.take()
            node = Node("op", "*", (node, self.atom()))
        return node

    def atom(self) -> Node:
        kind, value = self.take()
        if kind == "str":
            return Node("str", json.loads(value))
        if kind == "num":
            return Node("num", value)
        if kind == "field":
            return Node("field", value[1:-1])
        if kind == "op" and value == "(":
            node = self.conjunction()
            self.take(")")
            return node
        if kind == "word":
            if self.peek() == ("op", "("):
                if value not in FUNCTIONS:
                    raise ValueError(f"unknown function {value}")
                self.take("(")
                args = []
                if self.peek() != ("op", ")"):
                    args.append(self.conjunction())
                    while self.peek() == ("op", ","):
                        self.take()
                        args.append(self.conjunction())
                self.take(")")
                return Node("call", value, tuple(args))
            return Node("field", value)  # a bare name: Splunk's host, source, sourcetype
        raise ValueError(f"unexpected {value!r}")


def parse(text: str) -> Node:
    return Parser(text).parse()


def parse_assignments(text: str) -> list[tuple[str, Node]]:
    """The assignments of an `eval` command: `a=expr, b=expr` (evaluated left to right)."""
    parser = Parser(text)
    out = []
    while True:
        kind, name = parser.take()
        if kind not in ("word", "field"):
            raise ValueError(f"eval: expected a field name, got {name!r}")
        parser.take("=")
        out.append((name.strip("'"), parser.conjunction()))
        if parser.peek() is None:
            return out
        parser.take(",")


def fields_of(node: Node) -> set[str]:
    """Fields an expression reads; `spath(_raw, "x")` reads the JSON field x."""
    if node.kind == "field":
        return {node.value}
    if node.kind == "call" and node.value == "spath":
        return {node.args[1].value}
    out: set[str] = set()
    for arg in node.args:
        out |= fields_of(arg)
    return out


# ------------------------------------------------------------------------------- evaluation


def kv_json(event: object, prefix: str = "") -> dict[str, list[str]]:
    """KV_MODE=json: every leaf under its Splunk name, all values as text."""
    out: dict[str, list[str]] = {}
    if isinstance(event, dict):
        for key, value in event.items():
            for name, values in kv_json(value, f"{prefix}.{key}" if prefix else str(key)).items():
                out.setdefault(name, []).extend(values)
    elif isinstance(event, list):
        for item in event:
            for name, values in kv_json(item, prefix + "{}").items():
                out.setdefault(name, []).extend(values)
    elif isinstance(event, bool):
        out[prefix] = ["true" if event else "false"]
    elif event is not None:
        out[prefix] = [event if isinstance(event, str) else json.dumps(event)]
    return out


def _single(values: list[str] | None) -> Value:
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)


def _number(value: Value) -> float | None:
    if isinstance(value, bool) or value is None or isinstance(value, list):
        return None
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except ValueError:
        return None


def _scalar_text(value: Value) -> str | None:
    if value is None or isinstance(value, (list, bool)):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def evaluate(node: Node, fields: dict[str, list[str]], raw: dict[str, object]) -> Value:
    if node.kind == "str":
        return node.value
    if node.kind == "num":
        return float(node.value)
    if node.kind == "field":
        return _single(fields.get(node.value))
    if node.kind == "op":
        left, right = (evaluate(a, fields, raw) for a in node.args)
        if node.value == "AND":
            return bool(left) and bool(right)
        if node.value == "==":
            return left is not None and right is not None and _scalar_text(left) == _scalar_text(right)
        if node.value in ("<=", ">="):
            # numbers compare as numbers (both sides numeric here); a null is not comparable
            a, b = _number(left), _number(right)
            if a is None or b is None:
                return None
            return a <= b if node.value == "<=" else a >= b
        if node.value == "*":
            a, b = _number(left), _number(right)
            return None if a is None or b is None else a * b
        if node.value == "+":
            a, b = _number(left), _number(right)
            return None if a is None or b is None else a + b
        a_text, b_text = _scalar_text(left), _scalar_text(right)
        return None if a_text is None or b_text is None else a_text + b_text
    name, args = node.value, node.args
    if name == "true":
        return True
    if name == "null":
        return None
    if name == "case":
        for index in range(0, len(args), 2):
            if evaluate(args[index], fields, raw) is True:
                return evaluate(args[index + 1], fields, raw)
        return None
    if name == "if":
        branch = args[1] if evaluate(args[0], fields, raw) is True else args[2]
        return evaluate(branch, fields, raw)
    if name == "coalesce":
        for arg in args:
            value = evaluate(arg, fields, raw)
            if value is not None:
                return value
        return None
    if name == "spath":
        return _single(kv_json(raw).get(args[1].value))
    if name == "mvmap":
        subject = args[0]
        if subject.kind != "field":
            raise ValueError("the model knows mvmap over a field only")
        mapped = []
        for value in fields.get(subject.value) or []:
            result = evaluate(args[1], {**fields, subject.value: [value]}, raw)
            text = _scalar_text(result)
            if text is not None:
                mapped.append(text)
        return _single(mapped)
    values = [evaluate(a, fields, raw) for a in args]
    if name == "in":
        subject = _scalar_text(values[0])
        return subject is not None and subject in [_scalar_text(v) for v in values[1:]]
    if name == "isnotnull":
        return values[0] is not None
    if name == "isnull":
        return values[0] is None
    if name == "mvindex":
        items = values[0] if isinstance(values[0], list) else [] if values[0] is None else [values[0]]
        index = int(_number(values[1]) or 0)
        return items[index] if -len(items) <= index < len(items) else None
    if name == "split":
        text = _scalar_text(values[0])
        return None if text is None else _single(text.split(str(values[1])))
    if name == "round":
        number = _number(values[0])
        # half away from zero (Splunk's round)
        return None if number is None else float(math.floor(abs(number) + 0.5)) * (1 if number >= 0 else -1)
    if name == "mvfind":
        # the index of the first value the regex matches; null when none does
        items = values[0] if isinstance(values[0], list) else [] if values[0] is None else [values[0]]
        found = [i for i, v in enumerate(items) if re.search(str(values[1]), str(_scalar_text(v)))]
        return float(found[0]) if found else None
    if name == "mvcount":
        return float(len(values[0])) if isinstance(values[0], list) else (None if values[0] is None else 1.0)
    if name == "tonumber":
        return _number(values[0])
    text = _scalar_text(values[0])
    if text is None:
        return None
    if name == "lower":
        return text.lower()
    if name == "len":
        return float(len(text))
    if name == "replace":
        return re.sub(str(values[1]), str(values[2]), text)  # PCRE's \1 is Python's
    if name == "match":
        return re.search(str(values[1]), text) is not None
    raise ValueError(name)


def run_stanza(
    stanza: dict[str, str], raw: dict[str, object], host: str, sourcetype: str | None = None
) -> dict[str, Value]:
    """The fields a props stanza gives one JSON event: extraction, aliases, then EVALs."""
    fields = kv_json(raw)
    fields["host"] = [host]
    if sourcetype is not None:
        fields["sourcetype"] = [sourcetype]
    for key, value in stanza.items():
        if key.startswith("FIELDALIAS-"):
            words = value.split()
            if len(words) % 3 or any(w != "AS" for w in words[1::3]):
                raise ValueError(f"{key}: the model knows `a AS b` aliases only")
            for source, target in zip(words[0::3], words[2::3]):
                if source in fields:
                    fields[target] = list(fields[source])
                else:  # AS: the alias of an absent field is removed
                    fields.pop(target, None)
    results = {
        key[len("EVAL-") :]: evaluate(parse(value), fields, raw)
        for key, value in stanza.items()
        if key.startswith("EVAL-")
    }
    out: dict[str, Value] = {name: _single(values) for name, values in fields.items()}
    out.update(results)
    return out


def as_text(value: object) -> object:
    """One comparable form of a value from either side."""
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)
