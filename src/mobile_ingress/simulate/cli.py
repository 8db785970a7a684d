"""`mobile-ingress simulate`: write a labelled synthetic fleet for the detection engine."""

from __future__ import annotations

import argparse
import sys

from .shapes import SHAPES, shape_named


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--devices", type=int, required=True, help="number of devices in the fleet")
    parser.add_argument("--hours", type=float, required=True, help="length of the run in hours")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bytes out)")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument(
        "--order",
        choices=("asc", "desc", "shuffled"),
        default="asc",
        help="order of events.ndjson (default asc); shuffled is a bounded-memory shuffle",
    )
    parser.add_argument(
        "--shape",
        choices=tuple(SHAPES),
        default="default",
        help="the mix of benign traffic (default: the fleet as documented; see simulate/shapes.py)",
    )
    parser.add_argument(
        "--start",
        default=None,
        help="start of the run: epoch seconds (ms if >= 1e11) or ISO 8601 with a zone "
        "(default 2025-03-03T08:00:00Z)",
    )


def run(args: argparse.Namespace) -> int:
    # Imported here: the simulator and its data load only when a fleet is written (see __init__).
    from .generate import simulate
    from .model import parse_start

    try:
        start_ms = parse_start(args.start) if args.start is not None else None
    except ValueError as exc:
        print(f"mobile-ingress simulate: {exc}", file=sys.stderr)
        return 2
    if args.devices < 1 or not args.hours > 0:
        print("mobile-ingress simulate: --devices must be >= 1 and --hours > 0", file=sys.stderr)
        return 2
    try:
        res = simulate(
            args.devices,
            args.hours,
            args.seed,
            args.out,
            order=args.order,
            start_ms=start_ms,
            shape=shape_named(args.shape),
        )
    except OSError as exc:
        print(f"mobile-ingress simulate: {exc}", file=sys.stderr)
        return 1
    print(
        f"simulate: wrote {res.events} events ({args.order}) for {res.devices} devices over "
        f"{args.hours:g} h to {res.out}",
        file=sys.stderr,
    )
    print(
        f"simulate: planted {res.expected} expected findings and {res.near_misses} near-misses "
        f"({len(res.by_label)} labels); see ground_truth.ndjson",
        file=sys.stderr,
    )
    if res.skipped:
        n = sum(res.skipped.values())
        print(
            f"simulate: {n} case(s) not planted for lack of free slots (a larger fleet or a longer run "
            "has room)",
            file=sys.stderr,
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mobile-ingress simulate", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
