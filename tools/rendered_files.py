"""Write rendered files, or with `--check` only report the stale ones: the one `main` of the
tools that render committed files from their sources (detections, normalization mappings)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable


def write_or_check(
    tool: str, description: str, rendered: Callable[[], dict[Path, str]], argv: list[str] | None
) -> int:
    """Render; write what changed, or with --check write nothing and exit 1 when anything is stale."""
    parser = argparse.ArgumentParser(prog=tool, description=description)
    parser.add_argument("--check", action="store_true", help="exit 1 when a rendered file is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    for path in stale:
        verb = "stale" if args.check else "rendered"
        print(f"{tool}: {verb}: {os.path.relpath(path)}", file=sys.stderr)
    return 1 if stale and args.check else 0
