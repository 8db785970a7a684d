"""`mobile-ingress normalize`: what one's data becomes, before any correlation.

Each input (normalized events, and raw events through `--raw` with the mappings and their joins)
goes through the same reading and validation as `detect`: the events the engine would correlate
are written to stdout as NDJSON, one per line, in the engine's own form (`Event.to_dict()`:
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
from .detect import Inputs, MessageFile, UsageError, check_inputs, load_lookups
from .raw import RawInputs, WithRaw

DESCRIPTION = (
    "Write the normalized events the engine reads (contract fields, the mappings' joins applied) as"
    " NDJSON to stdout, with the same skips and messages as detect. Device attribution (DHCP leases"
    " to the MDMs' Wi-Fi MACs) is not applied yet: a network retrieval keeps its src_ip unresolved"
    " and takes a device only from a mobile_ingress_device_inventory row of --lookups, as detect"
    " does; without one it is skipped as unresolved."
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
        help="raw events of a supported sourcetype, normalized as the app's props and joins do",
    )
    parser.add_argument(
        "--lookups",
        metavar="DIR",
        help="folder of mobile_ingress_<name>.csv overrides (the device inventory resolves src_ip)",
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
    lookups = load_lookups(args.lookups)
    written = 0
    with ExitStack() as stack:
        inputs = Inputs(args.inputs, stack)
        raw = RawInputs.open(args.raw, stack) if args.raw else None
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
        for message in report.messages[:shown]:
            print(message, file=sys.stderr)
        hidden = len(report.messages) - shown + report.dropped_messages
        if hidden > 0:
            print(f"... and {hidden} more messages (--messages FILE keeps them all)", file=sys.stderr)
        for line in raw.summary() if raw else []:
            print(line, file=sys.stderr)
        skipped = ", ".join(f"{reason}: {count}" for reason, count in report.skipped.most_common())
        print(
            f"mobile-ingress: read {report.read} events; skipped {report.skipped_total}"
            + (f" ({skipped})" if skipped else "")
            + f"; {report.warnings} warnings; wrote {written} normalized events",
            file=sys.stderr,
        )
    return 0
