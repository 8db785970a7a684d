"""A complete search command protocol v2 stream, or an error.

splunkd sends `getinfo`, then `execute` chunks, the last with `finished: true`; every chunk is
`chunked 1.0,<metadata bytes>,<body bytes>\\n` + metadata + body
(https://dev.splunk.com/enterprise/docs/devtools/customsearchcommands/customsearchcommandsv2/).
splunklib reads a body shorter than its declared length as if it were whole, and takes the end of
the stream before `finished` as a normal end: the command then exits 0 having correlated part of
the events, or none. For a detection that is a silent miss, so the command checks both: every
read returns the bytes the header declared (`ExactStream`), and the stream's last chunk said
`finished` (`IngressCorrelateCommand._execute_v2`).
"""

from __future__ import annotations

from typing import Any


class IncompleteStream(Exception):
    """The protocol stream ended or broke before the search's last chunk."""


class ExactStream:
    """A binary stream whose `read(n)` returns n bytes or raises IncompleteStream."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.raw.read(size)
        if size is not None and size > 0 and len(data) < size:
            raise IncompleteStream(f"a chunk declared {size} bytes and the stream ended after {len(data)}")
        return data

    def readline(self, *args: Any) -> bytes:
        line: bytes = self.raw.readline(*args)
        return line


def cause_of(error: BaseException) -> str:
    """The reason a read failed, without splunklib's wrapping (its RuntimeError names the length
    it wanted; ours says what arrived)."""
    seen = error
    while seen.__context__ is not None and not isinstance(seen, IncompleteStream):
        seen = seen.__context__
    return str(seen if isinstance(seen, IncompleteStream) else error)
