"""Fixtures shared across the test tree."""

from tests.replay.fixtures import replay, scenario

__all__ = ["replay", "scenario"]
