"""The detection engine: pure Python, no Splunk imports.

Used unchanged by the `mobile-ingress` command line and by the `ingresscorrelate` search command.
Data flows one way: records -> `events.normalize_record` -> `prefilter` -> `stream.Correlator`
(which drives `chain` over bounded windows) -> `findings.Finding`. `Detector` does all of it; the
names below are what the front ends use.
"""

from __future__ import annotations

from .detector import Detector, Report
from .errors import (
    CompactPathError,
    EngineError,
    InvalidEvent,
    LookupFileError,
    OrderViolation,
    SettingError,
)
from .events import EVENT_FIELDS, Event, normalize_record
from .findings import Finding
from .lookups import LOOKUP_NAMES, Lookups, LookupSource, csv_file_source, lookup_name
from .prefilter import Prefilter
from .rules import Rules
from .settings import SETTING_NAMES, Settings, parse_bool, parse_setting
from .stream import Order

__all__ = [
    "EVENT_FIELDS",
    "LOOKUP_NAMES",
    "SETTING_NAMES",
    "CompactPathError",
    "Detector",
    "EngineError",
    "Event",
    "Finding",
    "InvalidEvent",
    "LookupFileError",
    "LookupSource",
    "Lookups",
    "Order",
    "OrderViolation",
    "Prefilter",
    "Report",
    "Rules",
    "SettingError",
    "Settings",
    "csv_file_source",
    "lookup_name",
    "normalize_record",
    "parse_bool",
    "parse_setting",
]
