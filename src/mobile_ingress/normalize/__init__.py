"""Normalization: one declarative mapping per raw sourcetype (YAML under `mappings/`), run in
Python by `mobile-ingress detect --raw` and rendered into the app's props/eventtypes/tags/macros
by tools/render_normalization.py, so Splunk and the command line give the same fields."""

from __future__ import annotations

from .executor import AsofIndex, JoinIndex, Normalized, Skip, apply, normalize_line, parse_raw
from .loader import MAPPINGS, load_mapping, load_mappings
from .model import MappingError, SourcetypeMapping

__all__ = [
    "MAPPINGS",
    "AsofIndex",
    "JoinIndex",
    "MappingError",
    "Normalized",
    "Skip",
    "SourcetypeMapping",
    "apply",
    "load_mapping",
    "load_mappings",
    "normalize_line",
    "parse_raw",
]
