"""`mobile-ingress normalize`: what one's data becomes, before any correlation.

Each input (normalized events, and raw events through `--raw` with the mappings, their joins and
device attribution) goes through the same reading and validation as `detect`: the events the engine
would correlate are written to stdout as NDJSON, one per line, in the engine's own form (`Event.to_dict()`:
`_time` in epoch seconds, the contract fields that are present), and every skip and warning is
reported exactly as `detect` reports it.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from typing import IO

from ..engine.detector import Detector
from ..engine.settings import Settings
from ..engine.stream import Order
from .detect import (
    Inputs,
    MessageFile,
    UsageError,
    check_inputs,
    check_lookups,
    load_lookups,
    lookups_used,
)
from .output import message_lines
from .raw import INVENTORY_LABEL, RawInputs, WithRaw

DESCRIPTION = (
    "Write the normalized events the engine reads (contract fields, the mappings' joins applied,"
    " devices attributed) as NDJSON to stdout, with the same skips and messages as detect. Device"
    " attribution: DHCP leases (bro:dhcp:json, suricata dhcp events) and MDM device inventories"
    " (mdm:jamf:mobiledevice, mdm:amapi:device, mdm:intune:device) among the --raw inputs build"
    " mobile_ingress_device_inventory (each lease span of a MAC, the device the MDMs report with"
    " it), which replaces the inventory of --lookups as the KV store collection does in Splunk; a"
    " network retrieval's src_ip then resolves to its device, or is skipped with the reason (no"
    " inventory row, ambiguous, randomized MAC, unmanaged device)."
)


def add_arguments(parser: argparse.ArgumentParser, shown: int) -> None:
    parser.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="normalized events: .ndjson/.jsonl/.json/.csv (optionally .gz), or - for stdin",
    )
    parser.add_argument(
        "--raw",
        action="append",
        default=[],
        metavar="SOURCETYPE=INPUT",
        help="raw events of a supported sourcetype, normalized as the app's props and joins do; DHCP"
        " leases and MDM device inventories among them build the device inventory",
    )
    parser.add_argument(
        "--lookups",
        metavar="DIR",
        help="folder of lookup overrides, as for detect (its device inventory resolves src_ip unless"
        " the --raw inputs attribute devices)",
    )
    parser.add_argument(
        "--messages",
        metavar="FILE",
        help=f"write every skip and warning message here (stderr shows the first {shown})",
    )
    parser.add_argument("--quiet", action="store_true", help="no messages or summary")


def write_events(out: IO[str], events: list[dict[str, object]]) -> None:
    for event in events:
        out.write(json.dumps(event, separators=(",", ":"), default=str) + "\n")


def run(args: argparse.Namespace, shown: int) -> int:
    if not args.inputs and not args.raw:
        raise UsageError("no input: give INPUT files, - for stdin, or --raw SOURCETYPE=INPUT")
    check_inputs(args.inputs)
    check_lookups(args.lookups)
    written = 0
    with ExitStack() as stack:
        raw = RawInputs.open(args.raw, stack) if args.raw else None
        lookups = load_lookups(args.lookups, raw.inventory() if raw else None, INVENTORY_LABEL)
        inputs = Inputs(args.inputs, stack)
        messages = (
            MessageFile(stack.enter_context(open(args.messages, "w", encoding="utf-8")))
            if args.messages
            else None
        )
        # The detector validates each record as detect does (its correlation is not used).
        detector = Detector(Settings(), lookups, Order.ANY)
        if messages is not None:
            messages.attach(detector)
        source = WithRaw(inputs, raw) if raw else inputs
        for stream in source.event_streams(detector, lambda: None):
            for event in stream:
                write_events(sys.stdout, [event.to_dict()])
                written += 1
    report = detector.report
    if not args.quiet:
        for line in message_lines(report, shown):
            print(line, file=sys.stderr)
        for line in raw.summary() if raw else []:
            print(line, file=sys.stderr)
        print(lookups_used(lookups), file=sys.stderr)
        skipped = ", ".join(f"{reason}: {count}" for reason, count in report.skipped.most_common())
        print(
            f"mobile-ingress: read {report.read} events; skipped {report.skipped_total}"
            + (f" ({skipped})" if skipped else "")
            + f"; {report.warnings} warnings; wrote {written} normalized events",
            file=sys.stderr,
        )
    return 0
