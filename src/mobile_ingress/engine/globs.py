"""Globs over whole paths (contract section 2): `*` and `?` stay inside one segment, `**` is zero or
more segments. Allowed paths are case-sensitive; risk patterns are not."""

from __future__ import annotations

import re
from re import Pattern


def _segment(text: str) -> str:
    out = []
    for ch in text:
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def glob_regex(pattern: str) -> str:
    parts = pattern.split("/")
    last = len(parts) - 1
    regex = []
    for index, part in enumerate(parts):
        if part == "**":
            if last == 0:
                regex.append(".*")
            elif index == 0:
                regex.append("(?:.*/)?")
            elif index == last:
                regex.append("(?:/.*)?")
            else:
                regex.append("/(?:.*/)?")
            continue
        if index > 0 and parts[index - 1] != "**":
            regex.append("/")
        regex.append(_segment(part))
    return "".join(regex)


def compile_glob(pattern: str, case_sensitive: bool) -> Pattern[str]:
    if not pattern:
        raise ValueError("empty glob")
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.compile(r"\A" + glob_regex(pattern) + r"\Z", flags | re.DOTALL)
