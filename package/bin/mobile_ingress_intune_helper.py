"""UCC input helper for the Microsoft Intune input.

The script UCC generates from globalConfig.json (bin/mobile_ingress_intune.py) calls these two
functions; the work is in mobile_ingress_inputs (see docs/inputs.md)."""

from __future__ import annotations

from typing import Any

from mobile_ingress_inputs import modinput

PROVIDER = "intune"


def validate_input(definition: Any) -> None:
    modinput.validate_input(PROVIDER, definition)


def stream_events(inputs: Any, ew: Any) -> None:
    modinput.stream_events(PROVIDER, inputs, ew)
