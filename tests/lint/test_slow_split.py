"""The quick/slow split cannot rot: every entry of tests/conftest.py's SLOW names a test that exists
and says why, and a test that reads the build output or the package, runs npm or the browser, or
needs the replay is on the list, so `make test-quick` (`-m "not slow"`) never needs `make build`."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import SLOW, TESTS, slow_entry

# What a slow test needs, as it shows in its source, and the pattern that shows it.
NEEDS: dict[str, re.Pattern[str]] = {
    "the build output or the package": re.compile(r'/\s*"(?:output|dist)"\s*/'),
    "npm or the browser": re.compile(r"\b(?:run_node|require_node_modules|render)\(|\bchromium\b"),
    "the replay or its scenario": re.compile(r"\breplay\s*:\s*Deployment\b|\bbuild_scenario\("),
}


@dataclass(frozen=True)
class ModuleSource:
    relative: str  # posix path under tests/
    text: str  # the module's source
    folder_text: str  # the conftest.py files of its folders below tests/, which its tests' fixtures come from

    def tests(self) -> dict[str, str]:
        """Each top-level test function's name -> its source."""
        tree = ast.parse(self.text)
        return {
            node.name: ast.get_source_segment(self.text, node) or ""
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        }


def modules_under(root: Path = TESTS) -> list[ModuleSource]:
    modules = []
    for path in sorted(root.rglob("test_*.py")):
        folders = [folder for folder in path.parents if root in folder.parents]
        folder_text = "".join(
            (folder / "conftest.py").read_text(encoding="utf-8")
            for folder in folders
            if (folder / "conftest.py").is_file()
        )
        text = path.read_text(encoding="utf-8")
        modules.append(ModuleSource(path.relative_to(root).as_posix(), text, folder_text))
    return modules


def missing_entries(slow: Mapping[str, str], root: Path = TESTS) -> list[str]:
    """Entries naming a path under ROOT that does not exist, or a test function its module lacks."""
    missing = []
    for entry in slow:
        path, _, name = entry.partition("::")
        target = root / path
        if not target.exists():
            missing.append(entry)
        elif name:
            module = ModuleSource(path, target.read_text(encoding="utf-8"), "")
            if name not in module.tests():
                missing.append(entry)
    return missing


def unexplained_entries(slow: Mapping[str, str]) -> list[str]:
    return [entry for entry, reason in slow.items() if not reason.strip()]


def uncovered(module: ModuleSource, slow: Mapping[str, str]) -> list[str]:
    """`module::test needs WHAT` for each test that needs what only a slow test may and is not in SLOW.

    A need seen in a test's own source concerns that test; one seen only in the module's shared code
    or its folders' conftest.py concerns every test of the module."""
    problems = []
    for what, pattern in NEEDS.items():
        if not (pattern.search(module.text) or pattern.search(module.folder_text)):
            continue
        tests = module.tests()
        own = [name for name, source in tests.items() if pattern.search(source)]
        for name in own or list(tests):
            if slow_entry(module.relative, name, slow) is None:
                problems.append(f"{module.relative}::{name} needs {what}")
    return problems


# ------------------------------------------------------------------------------------ the real list


def test_every_slow_entry_names_a_test_that_exists() -> None:
    assert missing_entries(SLOW) == []


def test_every_slow_entry_says_why_it_is_slow() -> None:
    assert unexplained_entries(SLOW) == []


def test_every_test_that_needs_the_build_npm_or_the_replay_is_slow() -> None:
    this = Path(__file__).resolve().relative_to(TESTS).as_posix()  # its samples spell the needs out
    modules = [module for module in modules_under() if module.relative != this]
    assert len(modules) > 50  # the walk found the tree, so an empty answer means something
    problems = [problem for module in modules for problem in uncovered(module, SLOW)]
    assert problems == []


# --------------------------------------------------------------- the checks catch what they claim to


def test_an_entry_for_a_path_that_is_gone_is_reported() -> None:
    assert missing_entries({"engine/test_gone.py": "why", "engine": "why"}) == ["engine/test_gone.py"]


def test_an_entry_for_a_test_function_that_is_gone_is_reported(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_here() -> None:\n    pass\n", encoding="utf-8")
    slow = {"test_x.py::test_here": "why", "test_x.py::test_renamed": "why"}
    assert missing_entries(slow, tmp_path) == ["test_x.py::test_renamed"]


def test_an_entry_without_a_reason_is_reported() -> None:
    assert unexplained_entries({"replay": "the replay", "package": "  "}) == ["package"]


BUILT_IN_ONE_TEST = """
def test_reads_nothing_slow() -> None:
    pass

def test_reads_the_build() -> None:
    built = ROOT / "output" / "TA-mobile-ingress"
"""


@pytest.mark.parametrize(
    ("slow", "expected"),
    [
        ({}, ["splunk/test_x.py::test_reads_the_build needs the build output or the package"]),
        ({"splunk/test_x.py::test_reads_the_build": "the build"}, []),
        ({"splunk": "the build"}, []),
    ],
)
def test_a_test_reading_the_build_is_reported_until_it_is_on_the_list(
    slow: dict[str, str], expected: list[str]
) -> None:
    assert uncovered(ModuleSource("splunk/test_x.py", BUILT_IN_ONE_TEST, ""), slow) == expected


def test_a_need_in_shared_code_concerns_every_test_of_the_module() -> None:
    text = (
        'BUILT = ROOT / "output" / APP\n\n\n'
        "def test_a() -> None:\n    pass\n\n\n"
        "def test_b() -> None:\n    pass\n"
    )
    assert uncovered(ModuleSource("inputs/test_x.py", text, ""), {"inputs/test_x.py::test_a": "why"}) == [
        "inputs/test_x.py::test_b needs the build output or the package"
    ]


def test_a_need_in_a_folders_conftest_concerns_every_test_in_it() -> None:
    module = ModuleSource("dashboards/test_x.py", "def test_a() -> None:\n    pass\n", "render(recorded)\n")
    assert uncovered(module, {}) == ["dashboards/test_x.py::test_a needs npm or the browser"]


def test_a_test_that_needs_nothing_slow_is_not_reported() -> None:
    text = "def test_a() -> None:\n    assert capture_output\n"
    assert uncovered(ModuleSource("engine/test_x.py", text, ""), {}) == []
