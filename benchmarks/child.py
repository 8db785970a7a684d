"""Run a module or script as this very process and write its own peak RSS (VmHWM) when it exits.

The parent times the child; the child reports its peak. VmHWM belongs to the child's address space
(ru_maxrss would not do: Linux keeps it across exec, so a child reports its parent's peak).

    python benchmarks/child.py REPORT -m MODULE ARGS...   |   python benchmarks/child.py REPORT SCRIPT ARGS...
"""

from __future__ import annotations

import atexit
import os
import runpy
import sys


def _peak_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def main() -> None:
    report = sys.argv[1]

    def write_peak() -> None:
        with open(report, "w") as handle:
            handle.write(f"{_peak_kib()}\n")

    atexit.register(write_peak)
    if sys.argv[2] == "-m":
        sys.argv = [sys.argv[3], *sys.argv[4:]]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        sys.argv = sys.argv[2:]
        sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))  # as `python SCRIPT` does
        runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
