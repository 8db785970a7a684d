"""UCC build hook: copies the detection engine into the built app.

`ucc-gen build` (splunk-add-on-ucc-framework 6.x) imports this module from the repository root after
it has assembled `output/<app>/` and calls `cleanup_output_files(output_directory, ta_name)`. That
is the only hook UCC hands the output folder to (`additional_packaging(ta_name)` gets the app name
alone), so the copy lives there.

The app needs the pure-Python engine (and later the normalization), not the developer tooling:
`cli/` and `simulate/` stay out, and so does the `lookups` symlink, because the shipped lookups
are already in the app's own `lookups/` folder.

UCC catches every exception from a build step, logs it and still exits 0, so `make build` checks
the result itself (tools/check_build.py) rather than trusting the exit code.
"""

from __future__ import annotations

import os
import shutil

PACKAGE = "mobile_ingress"
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "src", PACKAGE)

# Top-level entries of src/mobile_ingress that must not ship in the app.
EXCLUDED_TOP_LEVEL = frozenset({"cli", "simulate", "lookups"})
# Anywhere in the tree: bytecode and caches built on the developer's machine.
EXCLUDED_ANYWHERE = ("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".pytest_cache")


def _ignore(directory: str, names: list[str]) -> set[str]:
    ignored = set(shutil.ignore_patterns(*EXCLUDED_ANYWHERE)(directory, names))
    if os.path.abspath(directory) == SOURCE:
        ignored.update(name for name in names if name in EXCLUDED_TOP_LEVEL)
    return ignored


def copy_engine(app_dir: str) -> str:
    """Copy src/mobile_ingress into APP_DIR/bin/mobile_ingress, replacing any earlier copy."""
    target = os.path.join(app_dir, "bin", PACKAGE)
    if os.path.lexists(target):
        shutil.rmtree(target)
    # symlinks=True keeps any link as a link instead of following it out of the package; the only
    # one today (lookups) is excluded above, and tests/package fails on any link that remains.
    shutil.copytree(SOURCE, target, ignore=_ignore, symlinks=True)
    return target


def drop_console_scripts(app_dir: str) -> None:
    """pip --target writes the vendored packages' console scripts (rsa's pyrsa-*) to lib/bin with
    the build machine's interpreter in their shebang; nothing in the app runs them."""
    scripts = os.path.join(app_dir, "lib", "bin")
    if os.path.isdir(scripts):
        shutil.rmtree(scripts)


def cleanup_output_files(output_directory: str, ta_name: str) -> None:
    """UCC hook, called once the app is assembled in OUTPUT_DIRECTORY/TA_NAME."""
    copy_engine(os.path.join(output_directory, ta_name))
    drop_console_scripts(os.path.join(output_directory, ta_name))
