"""An offline executor for the SPL the app ships (issue 13): see README.md."""

from __future__ import annotations

from .errors import SplError, UnsupportedSpl
from .pipeline import Message
from .props import IndexedEvent
from .splunk import Results, Splunk

__all__ = ["IndexedEvent", "Message", "Results", "SplError", "Splunk", "UnsupportedSpl"]
