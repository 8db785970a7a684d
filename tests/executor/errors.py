"""The executor's two errors: what it refuses to model, and what Splunk itself would reject."""

from __future__ import annotations


class UnsupportedSpl(Exception):
    """SPL the executor does not model (a command, option, function or case it would have to guess).

    The message names the construct, so a test that meets it fails by name, never by a guess."""


class SplError(Exception):
    """An error Splunk would report for this search (bad syntax, undefined macro, a failing custom
    command, ...). The message is the one the search would show, as close as documented."""
