"""Labelled telemetry simulator for the DET0718 engine (`mobile-ingress simulate`).

`simulate()` writes events.ndjson (normalized events), lookups/ (the lookups this fleet needs) and
ground_truth.ndjson (planted findings and near-misses) into a folder; see cli.py for the command.
"""

from .generate import Result, simulate

__all__ = ["Result", "simulate"]
