"""`mobile-ingress`: detect mobile Ingress Tool Transfer (T1544, DET0718) in normalized events.

mobile-ingress detect [--lookups DIR] [--set NAME=VALUE]... [--raw SOURCETYPE=INPUT]...
                      [--format ndjson|csv|table] [--wide] [--iso-times] [--output FILE]
                      [--suppressed] [--order auto|asc|desc|any] [--messages FILE] [--fast] [--quiet]
                      [INPUT...]
mobile-ingress normalize [--raw SOURCETYPE=INPUT]... [--lookups DIR] [--messages FILE] [--quiet] [INPUT...]
mobile-ingress evaluate --truth TRUTH [--require-exact] FINDINGS
mobile-ingress simulate --devices N --hours H [--seed S] --out DIR [--order asc|desc|shuffled] ...

docs/cli.md is the reference (tests/docs/test_docs_match_cli.py holds it to this parser). Exit
status: 0 done, 1 a failure that stopped the run, 2 a usage error, 130 interrupted (Ctrl-C, one
line), 141 stdout closed by its reader (`| head`: quietly, as a Unix tool a SIGPIPE stops).

`--lookups DIR` reads `mobile_ingress_<name>_local.csv`, then `mobile_ingress_<name>.csv`, then the
shipped file, the order Splunk reads the app's `lookups/` folder after the KV store. Device
attribution: DHCP leases and MDM device inventories among the --raw inputs build
mobile_ingress_device_inventory, which then replaces the --lookups and shipped inventory as the KV
store collection does in Splunk (docs/data.md, Device attribution).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack, nullcontext
from typing import IO

from .. import __version__
from ..engine.errors import EngineError
from ..engine.settings import SETTING_NAMES
from . import evaluate as evaluate_cli
from . import normalize_cmd
from .detect import (
    Inputs,
    MessageFile,
    UsageError,
    check_inputs,
    check_lookups,
    correlate,
    load_lookups,
    lookups_used,
    parse_settings,
)
from .output import message_lines, summary_line, write_csv, write_ndjson, write_table
from .raw import INVENTORY_LABEL, RawInputs, WithRaw, raw_input_hint

MESSAGES_SHOWN = 20


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mobile-ingress", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    detect = commands.add_parser("detect", help="correlate events and write findings")
    detect.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="normalized events: .ndjson/.jsonl/.json/.csv (optionally .gz), or - for stdin",
    )
    detect.add_argument(
        "--lookups",
        metavar="DIR",
        help="folder of lookup overrides: mobile_ingress_<name>_local.csv, else mobile_ingress_<name>.csv,"
        " else the shipped file",
    )
    detect.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"a scalar element: {', '.join(SETTING_NAMES)}",
    )
    detect.add_argument(
        "--raw",
        action="append",
        default=[],
        metavar="SOURCETYPE=INPUT",
        help="raw events of a supported sourcetype, normalized as the app's props do; DHCP leases and"
        " MDM device inventories among them build the device inventory (it replaces --lookups')",
    )
    detect.add_argument(
        "--format",
        choices=("ndjson", "csv", "table"),
        default="ndjson",
        help="findings as NDJSON (the contract's form), CSV (with ISO 8601 times) or a table for a terminal",
    )
    detect.add_argument(
        "--wide", action="store_true", help="with --format table: every field, nothing cut to the terminal"
    )
    detect.add_argument(
        "--iso-times",
        action="store_true",
        help="with --format ndjson: add first_time_iso and last_time_iso (ISO 8601 UTC) after the epoch"
        " times",
    )
    detect.add_argument("--output", metavar="FILE", help="write findings here instead of stdout")
    detect.add_argument(
        "--suppressed",
        action="store_true",
        help="also write chains that a suppression stopped, with suppressed_by",
    )
    detect.add_argument(
        "--order",
        choices=("auto", "asc", "desc", "any"),
        default="auto",
        help="input time order; auto streams sorted input with bounded memory",
    )
    detect.add_argument(
        "--messages",
        metavar="FILE",
        help=f"write every skip and warning message here (stderr shows the first {MESSAGES_SHOWN})",
    )
    detect.add_argument(
        "--fast",
        action="store_true",
        help="read NDJSON inputs with the fast reader (DuckDB, the 'fast' extra); same findings and messages",
    )
    detect.add_argument("--quiet", action="store_true", help="no progress, messages or summary")

    normalize = commands.add_parser(
        "normalize",
        help="write the normalized events the engine reads (NDJSON), for checking a data source",
        description=normalize_cmd.DESCRIPTION,
    )
    normalize_cmd.add_arguments(normalize, MESSAGES_SHOWN)

    evaluate = commands.add_parser("evaluate", help="precision and recall against a ground truth")
    evaluate_cli.add_arguments(evaluate)

    simulate = commands.add_parser("simulate", help="write a labelled simulated fleet")
    # Only the options: the simulator and its data load when a fleet is written (simulate/__init__).
    from ..simulate import cli as simulate_cli

    simulate_cli.add_arguments(simulate)
    return parser


def _progress(enabled: bool):  # type: ignore[no-untyped-def]
    if not enabled:
        return nullcontext(lambda: None)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    class _Ticker:
        def __init__(self) -> None:
            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.completed:,} records read"),
                TimeElapsedColumn(),
                console=None,
                transient=True,
            )
            self.count = 0

        def __enter__(self):  # type: ignore[no-untyped-def]
            self.progress.__enter__()
            self.task = self.progress.add_task("read", total=None)
            return self.tick

        def tick(self) -> None:
            self.count += 1
            if self.count % 5000 == 0:
                self.progress.update(self.task, completed=self.count)

        def __exit__(self, *exc: object) -> None:
            self.progress.__exit__(None, None, None)

    return _Ticker()


def run_detect(args: argparse.Namespace) -> int:
    if not args.inputs and not args.raw:
        raise UsageError("no input: give INPUT files, - for stdin, or --raw SOURCETYPE=INPUT")
    check_inputs(args.inputs)
    settings = parse_settings(args.set)
    check_lookups(args.lookups)
    if args.wide and args.format != "table":
        raise UsageError("--wide applies to --format table")
    if args.iso_times and args.format != "ndjson":
        raise UsageError("--iso-times applies to --format ndjson (CSV always has the ISO times)")
    show_progress = not args.quiet and sys.stderr.isatty()
    with ExitStack() as stack:
        raw = RawInputs.open(args.raw, stack) if args.raw else None
        # Leases and MDM device records among the raw inputs give the device inventory.
        lookups = load_lookups(args.lookups, raw.inventory() if raw else None, INVENTORY_LABEL)
        inputs = Inputs(args.inputs, stack)
        if args.fast:
            inputs.use_fast_reader(settings, lookups, args.suppressed)
        messages = (
            MessageFile(stack.enter_context(open(args.messages, "w", encoding="utf-8")))
            if args.messages
            else None
        )
        with _progress(show_progress) as tick:
            detector, findings, suppressed = correlate(
                WithRaw(inputs, raw) if raw else inputs,  # type: ignore[arg-type]
                settings,
                lookups,
                args.order,
                args.suppressed,
                tick,
                messages,
            )
        # Only when something was skipped: raw events given as normal input are all skipped.
        hints = raw_hints(inputs) if detector.report.skipped_total and not args.quiet else []
    rows = [f.to_dict() for f in findings]
    tuning = [f.to_dict() for f in suppressed]
    out: IO[str]
    with (
        open(args.output, "w", encoding="utf-8", newline="") if args.output else nullcontext(sys.stdout)
    ) as out:
        if args.format == "ndjson":
            write_ndjson(out, rows + tuning, args.iso_times)
        elif args.format == "csv":
            write_csv(out, rows + tuning)
        else:
            write_table(out, rows, f"{len(rows)} findings", args.wide)
            if tuning:
                write_table(out, tuning, f"{len(tuning)} suppressed chains (tuning)", args.wide)
    report = detector.report
    if not args.quiet:
        for line in message_lines(report, MESSAGES_SHOWN):
            print(line, file=sys.stderr)
        for line in raw.summary() if raw else []:
            print(line, file=sys.stderr)
        for hint in hints:
            print(hint, file=sys.stderr)
        print(lookups_used(lookups), file=sys.stderr)
        print(summary_line(report, findings, suppressed), file=sys.stderr)
    return 0


def raw_hints(inputs: Inputs) -> list[str]:
    """`looks like <sourcetype>: use --raw ...` for each normal input that holds raw events."""
    hints = []
    for path, label in inputs.files:
        hint = raw_input_hint(path, label)
        if hint is not None:
            hints.append(f"mobile-ingress: {hint}")
    return hints


INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command Ctrl-C stopped
BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a Unix tool a closed pipe stopped


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = _run(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
        return code
    except UsageError as exc:
        print(f"mobile-ingress: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mobile-ingress: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`detect | head`): stop quietly as Unix tools do. Python would
        # flush stdout again at exit and fail once more, so it is pointed at devnull first
        # (https://docs.python.org/3/library/signal.html#note-on-sigpipe).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE
    except (EngineError, OSError) as exc:
        print(f"mobile-ingress: failed: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "detect":
        return run_detect(args)
    if args.command == "normalize":
        return normalize_cmd.run(args, MESSAGES_SHOWN)
    if args.command == "evaluate":
        return evaluate_cli.run(args)
    from ..simulate import cli as simulate_cli

    return int(simulate_cli.run(args))


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
