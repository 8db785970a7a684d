"""Search macros: backtick expansion from macros.conf, overlaid like local/macros.conf.

https://help.splunk.com/splunk-enterprise/manage-knowledge-objects/knowledge-management-manual/9.4/use-search-macros/define-search-macros-in-settings
and macros.conf.spec: a macro with arguments is the stanza `name(N)` with `args = a, b`, its
definition using `$a$`; `iseval = true` makes the definition an eval expression whose string
value is the expansion. Backticks inside double-quoted strings are not expanded. An undefined
macro is an error naming it.
"""

from __future__ import annotations

from collections.abc import Mapping

from .conf import conf_bool
from .errors import SplError
from .lexer import quote_end, split_top

MAX_DEPTH = 50


def _call(text: str) -> tuple[str, list[str]]:
    """`name` or `name(a, b)` as (stanza name, arguments)."""
    text = text.strip()
    if text.endswith(")") and "(" in text:
        name, _, rest = text.partition("(")
        body = rest[:-1]
        args = [a.strip() for a in split_top(body, ",")] if body.strip() else []
        return f"{name.strip()}({len(args)})", args
    return text, []


def _unquote_arg(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def expand(text: str, macros: Mapping[str, Mapping[str, str]], depth: int = 0) -> str:
    if "`" not in text:
        return text
    if depth > MAX_DEPTH:
        raise SplError("Error in search macros: expansion is recursive (depth above 50)")
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            end = quote_end(text, i)
            out.append(text[i:end])
            i = end
            continue
        if char != "`":
            out.append(char)
            i += 1
            continue
        end = text.find("`", i + 1)
        if end < 0:
            raise SplError(f"Unbalanced backtick in {text[i : i + 60]!r}")
        out.append(expand(_definition(text[i + 1 : end], macros), macros, depth + 1))
        i = end + 1
    return "".join(out)


def _definition(call: str, macros: Mapping[str, Mapping[str, str]]) -> str:
    name, args = _call(call)
    stanza = macros.get(name)
    if stanza is None:
        raise SplError(f"Error in search macros: the search macro '{name}' cannot be found.")
    definition = stanza.get("definition", "")
    names = [a.strip() for a in stanza.get("args", "").split(",") if a.strip()]
    if len(names) != len(args):
        raise SplError(f"Error in search macros: '{name}' takes {len(names)} arguments, got {len(args)}")
    for arg_name, value in zip(names, args):
        definition = definition.replace(f"${arg_name}$", _unquote_arg(value))
    if conf_bool(stanza.get("iseval"), False):
        from .evalexpr import compile_expression

        result = compile_expression(definition)({})
        if not isinstance(result, str):
            raise SplError(f"Error in search macros: the eval macro '{name}' did not return a string")
        definition = result
    return definition
