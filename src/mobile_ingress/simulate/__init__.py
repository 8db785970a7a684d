"""Labelled telemetry simulator for the DET0718 engine (`mobile-ingress simulate`).

`simulate()` writes events.ndjson (normalized events), lookups/ (the lookups this fleet needs) and
ground_truth.ndjson (planted findings and near-misses) into a folder; see cli.py for the command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .generate import Result, simulate

__all__ = ["Result", "simulate"]


def __getattr__(name: str) -> Any:
    # Loaded on first use (PEP 562): the command line imports this package for the `simulate`
    # options alone, and the simulator's data files must not be read, or able to break, `detect`.
    if name in __all__:
        from . import generate

        return getattr(generate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
