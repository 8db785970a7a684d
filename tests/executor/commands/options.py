"""Shared argument parsing for commands: `key=value` options and field lists."""

from __future__ import annotations

from collections.abc import Iterable

from ..conf import conf_bool
from ..errors import SplError, UnsupportedSpl
from ..lexer import Token, tokenize


class Args:
    """A command's tokens with helpers to take options and names in order."""

    def __init__(self, command: str, text: str) -> None:
        self.command = command
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, offset: int = 0) -> Token | None:
        index = self.i + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def done(self) -> bool:
        return self.i >= len(self.tokens)

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise SplError(f"Error in '{self.command}' command: missing arguments")
        self.i += 1
        return token

    def at_option(self) -> bool:
        token, eq = self.peek(), self.peek(1)
        return (
            token is not None
            and token.kind == "word"
            and eq is not None
            and eq.kind == "op"
            and eq.text == "="
        )

    def options(self, allowed: Iterable[str]) -> dict[str, str]:
        """Leading `key=value` options; a key outside `allowed` is refused by name."""
        names = set(allowed)
        out: dict[str, str] = {}
        while self.at_option():
            key = self.take().text
            self.take()
            value = self.take()
            if value.kind not in ("word", "quoted"):
                raise SplError(f"Error in '{self.command}' command: no value for option {key}")
            if key not in names:
                raise UnsupportedSpl(f"option '{key}' of command '{self.command}'")
            out[key] = value.value
        return out

    def names_and_options(self, allowed: Iterable[str]) -> tuple[list[str], dict[str, str]]:
        """Field names with `key=value` options anywhere among them."""
        names: list[str] = []
        options: dict[str, str] = {}
        while not self.done():
            if self.at_option():
                options.update(self.options(allowed))
                continue
            token = self.take()
            if token.kind == "op" and token.text == ",":
                continue
            if token.kind not in ("word", "quoted"):
                raise SplError(f"Error in '{self.command}' command: unexpected {token.text!r}")
            names.append(token.value)
        return names, options

    def rest_text(self) -> str:
        return " ".join(t.text for t in self.tokens[self.i :])

    def expect_end(self) -> None:
        if not self.done():
            raise SplError(f"Error in '{self.command}' command: unexpected {self.peek().text!r}")

    def names(self) -> list[str]:
        """Field names up to the end (commas allowed)."""
        out = []
        while not self.done():
            token = self.take()
            if token.kind == "op" and token.text == ",":
                continue
            if token.kind not in ("word", "quoted"):
                raise SplError(f"Error in '{self.command}' command: unexpected {token.text!r}")
            out.append(token.value)
        return out


def boolean(command: str, name: str, value: str | None, default: bool) -> bool:
    try:
        return conf_bool(value, default)
    except SplError:
        raise SplError(f"Error in '{command}' command: Invalid value for {name}: {value!r}") from None


def integer(command: str, name: str, value: str | None, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise SplError(f"Error in '{command}' command: Invalid value for {name}: {value!r}") from None
