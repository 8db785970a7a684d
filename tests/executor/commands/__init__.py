"""The commands the executor models; importing this package registers them."""

from __future__ import annotations

from . import basic, combine, lookups, rest, stats, timecommands  # noqa: F401
