"""Run `ucc-gen build` and fail when it failed, whatever its exit code says.

ucc-gen 6.x exits 0 after a syntax error in globalConfig.json and after any exception inside a
build step (it logs "Uncaught exception" and returns), including one raised by the
additional_packaging.py hook that copies the engine. So this wrapper checks the JSON first, then
the log, then the few things the rest of the pipeline relies on.

Usage: python tools/ucc_build.py --app NAME --version V --output DIR --python PY --pip-version P
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Log lines that mean the build went wrong even when ucc-gen exits 0.
BAD_MARKERS = ("ERROR:", "CRITICAL:", "Uncaught exception", "Traceback (most recent call last)")


def fail(message: str) -> int:
    print(f"ucc_build: {message}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--python", required=True, help="interpreter whose pip installs package/lib")
    parser.add_argument("--pip-version", required=True)
    args = parser.parse_args(argv)

    config = ROOT / "globalConfig.json"
    try:
        json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return fail(f"{config} is not valid JSON: {exc}")
    config_before = config.read_bytes()

    ucc_gen = Path(sys.executable).parent / "ucc-gen"
    command = [
        str(ucc_gen), "build",
        "--source", str(ROOT / "package"),
        "--config", str(config),
        "--ta-version", args.version,
        "--output", str(ROOT / args.output),
        "--overwrite",
        "--python-binary-name", args.python,
        "--pip-version", args.pip_version,
    ]  # fmt: skip
    print("+", " ".join(command), flush=True)
    proc = subprocess.run(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    log = proc.stdout
    log_path = ROOT / args.output / "ucc-gen-build.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(log, encoding="utf-8")
    # The full log is long (every file copied); keep it on disk and show only what matters.
    bad = [line for line in log.splitlines() if any(marker in line for marker in BAD_MARKERS)]
    if proc.returncode != 0 or bad:
        print(log[-6000:], file=sys.stderr)
        return fail(f"ucc-gen build failed (exit {proc.returncode}); full log in {log_path}")

    app_dir = ROOT / args.output / args.app
    engine = app_dir / "bin" / "mobile_ingress" / "__init__.py"
    for required in (app_dir / "app.manifest", app_dir / "default" / "app.conf", engine):
        if not required.is_file():
            return fail(f"{required} is missing after the build; full log in {log_path}")

    if config.read_bytes() != config_before:
        # ucc-gen rewrites globalConfig.json (schema and version); a diff means the committed copy
        # is stale, and a fresh clone's build would dirty the work tree.
        print(f"ucc_build: NOTE: ucc-gen rewrote {config.name}; commit the new version", file=sys.stderr)

    print(f"ucc_build: built {app_dir.relative_to(ROOT)} (version {args.version})")
    return 0


if __name__ == "__main__":
    os.umask(0o022)  # the package keeps the permissions it is built with
    sys.exit(main())
