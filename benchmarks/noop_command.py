"""The protocol floor: a splunk-sdk streaming command (protocol v2) that reads every record of every
chunk and does nothing with it. What splunklib costs to read the same bytes, before any detection."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator

from splunklib.searchcommands import Configuration, StreamingCommand, dispatch


@Configuration()
class NoopCommand(StreamingCommand):
    def stream(self, records: Iterable[dict[str, object]]) -> Iterator[dict[str, object]]:
        for _ in records:  # parse every record, as a real command must
            pass
        return iter(())


if __name__ == "__main__":
    dispatch(NoopCommand, sys.argv, sys.stdin, sys.stdout, __name__)
