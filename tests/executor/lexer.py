"""Scanning SPL text: top-level splitting (outside quotes, [subsearches] and (parentheses)),
quoted strings, and the argument tokens of a command."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import SplError


def unquote(text: str) -> str:
    """The value of a double-quoted SPL string: backslash escapes a quote or a backslash; other
    backslashes stay (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/search,
    "Quotes and escaping characters")."""
    assert text.startswith('"') and text.endswith('"') and len(text) >= 2, text
    body = text[1:-1]
    if "\\" not in body:
        return body
    out = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body) and body[i + 1] in '"\\':
            out.append(body[i + 1])
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def quote_end(text: str, start: int) -> int:
    """Index just past the quoted string that starts at `start`."""
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == '"':
            return i + 1
        i += 1
    raise SplError(f"Unbalanced quotes in {text[start : start + 60]!r}")


def bracket_end(text: str, start: int) -> int:
    """Index just past the bracket group ([...] or (...)) that opens at `start`."""
    depth = 0
    i = start
    while i < len(text):
        char = text[i]
        if char == '"':
            i = quote_end(text, i)
            continue
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise SplError(f"Unbalanced brackets in {text[start : start + 60]!r}")


def split_top(text: str, separator: str) -> list[str]:
    """Split on a one-character separator outside quotes, brackets and parentheses."""
    parts: list[str] = []
    depth = 0
    current = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            i = quote_end(text, i)
            continue
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
            if depth < 0:
                raise SplError(f"Unbalanced brackets in {text[:80]!r}")
        elif char == separator and depth == 0:
            parts.append(text[current:i])
            current = i + 1
        i += 1
    if depth != 0:
        raise SplError(f"Unbalanced brackets in {text[:80]!r}")
    parts.append(text[current:])
    return parts


@dataclass(frozen=True)
class Token:
    kind: str  # word, quoted, op (= != < <= > >= , ( )), subsearch
    text: str  # the source text (quoted strings with their quotes)

    @property
    def value(self) -> str:
        return unquote(self.text) if self.kind == "quoted" else self.text

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


_WORD_END = re.compile(r'[\s=!<>,()\[\]"]')


def tokenize(text: str) -> list[Token]:
    """Command arguments: words, quoted strings, operators, parentheses and whole [subsearches]."""
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char == '"':
            end = quote_end(text, i)
            tokens.append(Token("quoted", text[i:end]))
            i = end
            continue
        if char == "[":
            end = bracket_end(text, i)
            tokens.append(Token("subsearch", text[i:end]))
            i = end
            continue
        if text.startswith(("!=", "<=", ">=", "=="), i):
            tokens.append(Token("op", text[i : i + 2]))
            i += 2
            continue
        if char in "=<>,()":
            tokens.append(Token("op", char))
            i += 1
            continue
        if char == "!":
            raise SplError(f"Unexpected '!' in {text!r}")
        match = _WORD_END.search(text, i)
        end = match.start() if match else n
        tokens.append(Token("word", text[i:end]))
        i = end
    return tokens


def split_words(text: str) -> list[str]:
    """Whitespace- or comma-separated names (field lists), quotes removed."""
    out = []
    for token in tokenize(text):
        if token.kind == "op" and token.text == ",":
            continue
        if token.kind not in ("word", "quoted"):
            raise SplError(f"Unexpected {token.text!r} in a field list: {text!r}")
        out.append(token.value)
    return out
