"""Globs over whole paths (contract section 2): `*` and `?` stay inside one segment, `**` is zero or
more segments (consecutive `**` segments act as one). Allowed paths are case-sensitive; risk
patterns are not.

Matching takes time linear in the text for a given pattern. A regular expression with several `*`
in a segment, or several `**` before the last segment, backtracks (`*-*-*-*-*.tmp` took 11 s on one
long file name), so such a pattern is matched by the engine's own matcher: a segment piece by piece
between its stars, each piece at its leftmost place, and segments between `**` likewise (leftmost
placement is exact for globs: a piece placed later only leaves less text for the pieces after it).
Every other pattern (one `*` per segment, at most one `**` before the last segment: every shipped
row) compiles to a regular expression whose one unbounded choice is fixed by the `/` positions,
which is linear too and runs in C. Both count their work in STEPS (the tests prove the bound on
adversarial patterns by counting, not by timing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from re import Pattern

DOUBLE_STAR = "**"


@dataclass
class StepCounter:
    """Character comparisons made by every glob match (read by the tests)."""

    steps: int = 0


STEPS = StepCounter()


def _collapse(parts: list[str]) -> list[str]:
    """Consecutive `**` segments act as one."""
    out: list[str] = []
    for part in parts:
        if part == DOUBLE_STAR and out and out[-1] == DOUBLE_STAR:
            continue
        out.append(part)
    return out


def _piece_at(text: str, start: int, piece: str) -> bool:
    """`piece` (literal characters and `?`) matches `text` at `start`."""
    if start + len(piece) > len(text):
        return False
    for offset, ch in enumerate(piece):
        STEPS.steps += 1
        if ch != "?" and text[start + offset] != ch:
            return False
    return True


def _find_piece(text: str, start: int, end: int, piece: str) -> int:
    """The leftmost position in [start, end - len(piece)] where `piece` matches, or -1."""
    if "?" not in piece:
        STEPS.steps += max(1, end - start)  # str.find is linear in the span
        return text.find(piece, start, end)
    for position in range(start, end - len(piece) + 1):
        if _piece_at(text, position, piece):
            return position
    return -1


@dataclass(frozen=True)
class SegmentGlob:
    """One segment's pattern: literal pieces (with `?`) between `*`s."""

    pieces: tuple[str, ...]  # split on `*`: len 1 means no star

    @classmethod
    def parse(cls, text: str) -> SegmentGlob:
        return cls(tuple(text.split("*")))

    def matches(self, text: str) -> bool:
        pieces = self.pieces
        if len(pieces) == 1:
            return len(text) == len(pieces[0]) and _piece_at(text, 0, pieces[0])
        first, last = pieces[0], pieces[-1]
        if len(first) + len(last) > len(text):
            return False
        if not _piece_at(text, 0, first) or not _piece_at(text, len(text) - len(last), last):
            return False
        position, end = len(first), len(text) - len(last)
        for piece in pieces[1:-1]:
            if not piece:
                continue
            found = _find_piece(text, position, end, piece)
            if found < 0:
                return False
            position = found + len(piece)
        return True


def _block_at(segments: list[str], start: int, block: list[SegmentGlob]) -> bool:
    if start + len(block) > len(segments):
        return False
    return all(glob.matches(segments[start + i]) for i, glob in enumerate(block))


@dataclass(frozen=True)
class Glob:
    """A compiled glob. `match(text)` is truthy when the whole text matches (as `re.match` with
    anchors was, so callers keep their form)."""

    pattern: str
    case_sensitive: bool
    blocks: tuple[tuple[SegmentGlob, ...], ...] = field(default=())  # segment blocks between `**`
    anywhere: bool = False  # the pattern is `**` alone: everything matches
    regex: Pattern[str] | None = None  # for a pattern that cannot backtrack (see the module doc)

    @classmethod
    def compile(cls, pattern: str, case_sensitive: bool) -> Glob:
        if not pattern:
            raise ValueError("empty glob")
        text = pattern if case_sensitive else pattern.lower()
        parts = _collapse(text.split("/"))
        if parts == [DOUBLE_STAR]:
            return cls(pattern, case_sensitive, (), anywhere=True)
        inner_double = sum(1 for part in parts[:-1] if part == DOUBLE_STAR)
        if inner_double <= 1 and all(part == DOUBLE_STAR or part.count("*") <= 1 for part in parts):
            flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
            return cls(pattern, case_sensitive, regex=re.compile(r"\A" + glob_regex(pattern) + r"\Z", flags))
        blocks: list[tuple[SegmentGlob, ...]] = []
        current: list[SegmentGlob] = []
        for part in parts:
            if part == DOUBLE_STAR:
                blocks.append(tuple(current))
                current = []
            else:
                current.append(SegmentGlob.parse(part))
        blocks.append(tuple(current))
        return cls(pattern, case_sensitive, tuple(blocks))

    def match(self, text: str) -> bool:
        if self.anywhere:
            return True
        if self.regex is not None:
            STEPS.steps += len(text) + 1
            return self.regex.match(text) is not None
        if not self.case_sensitive:
            text = text.lower()
        segments = text.split("/")
        blocks = self.blocks
        if len(blocks) == 1:  # no `**`: segment for segment
            return len(segments) == len(blocks[0]) and _block_at(segments, 0, list(blocks[0]))
        head, tail = list(blocks[0]), list(blocks[-1])
        if len(head) + len(tail) > len(segments):
            return False
        if not _block_at(segments, 0, head) or not _block_at(segments, len(segments) - len(tail), tail):
            return False
        position, end = len(head), len(segments) - len(tail)
        for middle in blocks[1:-1]:
            block = list(middle)
            found = -1
            for start in range(position, end - len(block) + 1):
                if _block_at(segments, start, block):
                    found = start
                    break
            if found < 0:
                return False
            position = found + len(block)
        return True


def compile_glob(pattern: str, case_sensitive: bool) -> Glob:
    return Glob.compile(pattern, case_sensitive)


def _segment_regex(text: str) -> str:
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
    """The glob as a regular expression (for DuckDB's RE2, which does not backtrack): the fast
    reader's and the benchmarks' rendering. Python matching uses `Glob`."""
    parts = _collapse(pattern.split("/"))
    last = len(parts) - 1
    regex = []
    for index, part in enumerate(parts):
        if part == DOUBLE_STAR:
            if last == 0:
                regex.append(".*")
            elif index == 0:
                regex.append("(?:.*/)?")
            elif index == last:
                regex.append("(?:/.*)?")
            else:
                regex.append("/(?:.*/)?")
            continue
        if index > 0 and parts[index - 1] != DOUBLE_STAR:
            regex.append("/")
        regex.append(_segment_regex(part))
    return "".join(regex)
