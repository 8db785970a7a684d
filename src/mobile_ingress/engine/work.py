"""Counted work: the engine's operations per event, which the tests bound (no timing asserts).

One step is one unit of the engine's decision work: an event indexed, a candidate looked at, a
row checked, one level of a binary search. What the findings themselves hold (their evidence) is
bounded separately (`findings.MAX_EVIDENCE`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class WorkMeter:
    steps: int = 0

    def add(self, count: int = 1) -> None:
        self.steps += count

    def search(self, size: int) -> None:
        """One binary search over `size` items."""
        self.steps += size.bit_length() + 1
