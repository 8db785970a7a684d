"""Fixtures shared across the test tree, and the one list of slow tests.

`make test-quick` runs `pytest -m "not slow"`: no build, no package, no npm, no browser, about a
minute on the 2-core dev machine. The `slow` marker is set here, never in the test files: on every
test under a path of SLOW (a folder, a file, or `file::test function`), and on every Hypothesis
property test (hundreds of examples each). `make pytest` and `make test` run everything.
tests/lint/test_slow_split.py keeps the list honest: every entry names a test that exists, and a
test module that reads the build output, the package, npm or the replay is on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import is_hypothesis_test

from tests.replay.fixtures import replay, scenario

__all__ = ["SLOW", "replay", "scenario", "slow_entry"]

TESTS = Path(__file__).resolve().parent

# Path under tests/ -> why it is slow. Times from one run per folder on the 2-core dev machine while
# other jobs ran (so on the high side).
SLOW: dict[str, str] = {
    "dashboards": "the replay (about 90 s), the npm toolchain and headless Chromium",
    "replay": "nine days replayed through every shipped search (about 90 s)",
    "package": "reads the built app, the package and the AppInspect report (`make package inspect`)",
    "splunk/test_built_command.py": "runs the command from the built app (`make build`)",
    "splunk/test_knowledge_objects.py::test_the_built_app_ships_these_confs_and_lookups": (
        "reads the built app (`make build`)"
    ),
    "setup/test_handlers.py": "runs the setup page's handlers from the built app (`make build`)",
    "inputs/test_built_inputs.py": "runs the inputs from the built app (`make build`)",
    "inputs/test_kill.py": "kills input processes mid-run and restarts them (about 25 s)",
    "inputs/test_recorded_shapes.py::test_every_mdm_record_of_the_replay_follows_its_vendors_specification": (
        "builds the replay's nine-day scenario (about 18 s)"
    ),
    "cli/test_simulated_fleet.py": "detects on a 100k-event fleet in three orders (about 60 s)",
    "engine/test_properties.py": "the engine's Hypothesis properties and a check of their strategies (90 s)",
    "engine/test_candidates_first.py": "candidates first against correlating everything, over fleets (50 s)",
    "engine/test_work_bound.py::test_work_per_event_stays_under_a_constant_as_one_device_floods_its_window": (
        "floods one device's window at two sizes for every flood shape and order (about 15 s)"
    ),
    "simulate/test_memory.py": "a 300k-event fleet generated in a child process (about 20 s)",
    "normalize/test_psa.py": "pytest-splunk-addon's test generation in .venv-psa, a child pytest (5 s)",
    "executor/test_performance.py": "indexes a 100k-event fleet to time the executor (about 5 s)",
}


def _entry_matches(entry: str, relative: str, function: str) -> bool:
    path, _, name = entry.partition("::")
    within = relative == path or relative.startswith(path + "/")
    return within and name in ("", function)


def slow_entry(relative: str, function: str, slow: Mapping[str, str] = SLOW) -> str | None:
    """The entry of SLOW covering the test FUNCTION of the module at RELATIVE (a posix path under tests/)."""
    return next((entry for entry in slow if _entry_matches(entry, relative, function)), None)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not isinstance(item, pytest.Function) or TESTS not in item.path.parents:
            continue
        relative = item.path.relative_to(TESTS).as_posix()
        if slow_entry(relative, item.originalname) is not None or is_hypothesis_test(item.obj):
            item.add_marker(pytest.mark.slow)
