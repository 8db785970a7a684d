"""The documentation and the argument parser agree: every command line README.md and docs/*.md show
in a code block exists in `build_parser()` (cli/main.py), and every subcommand and option of the
parser is described in docs/cli.md, in the section of its subcommand."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from mobile_ingress.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
REFERENCE = ROOT / "docs" / "cli.md"
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Shown:
    """A command line a document shows: where, the subcommand (None for the program's own
    options) and the options it uses."""

    where: str
    subcommand: str | None
    options: tuple[str, ...]


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def options_of(parser: argparse.ArgumentParser) -> set[str]:
    return {s for action in parser._actions for s in action.option_strings if s.startswith("--")} - {"--help"}


def code_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of each line in a fenced or an indented (4 spaces) code block."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    fenced = False
    for number, line in enumerate(lines, start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced or line.startswith("    "):
            out.append((number, line))
    return out


def shown_command_lines(path: Path) -> list[Shown]:
    """Each `mobile-ingress ...` line of PATH's code blocks, with the indented `[...]` or `--...`
    lines that continue it."""
    shown: list[Shown] = []
    lines = code_lines(path)
    index = 0
    while index < len(lines):
        number, line = lines[index]
        text = line.strip().removeprefix("$ ")
        index += 1
        if not text.startswith("mobile-ingress"):
            continue
        words = text.split()
        if words[0] != "mobile-ingress":
            continue
        while index < len(lines) and lines[index][0] == lines[index - 1][0] + 1:
            follow = lines[index][1].strip()
            if not follow.startswith(("[", "--")):
                break
            text += " " + follow
            index += 1
        subcommand = words[1] if len(words) > 1 and not words[1].startswith("-") else None
        where = f"{path.relative_to(ROOT) if ROOT in path.parents else path}:{number}"
        shown.append(Shown(where, subcommand, tuple(OPTION.findall(text))))
    return shown


def reference_sections() -> dict[str, str]:
    """docs/cli.md's text under each `## \\`mobile-ingress <subcommand>\\`` heading."""
    text = REFERENCE.read_text(encoding="utf-8")
    parts = re.split(r"^## `mobile-ingress (\w+)`\s*$", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1].split("\n## ")[0] for i in range(1, len(parts), 2)}


ALL_SHOWN = [s for path in DOCS for s in shown_command_lines(path)]
PARSER = build_parser()
SUBCOMMANDS = subparsers(PARSER)


def test_the_documents_show_command_lines_to_check() -> None:
    shown = {s.subcommand for s in ALL_SHOWN}
    assert {"detect", "normalize", "evaluate", "simulate"} <= shown, shown


@pytest.mark.parametrize("shown", ALL_SHOWN, ids=lambda s: s.where)
def test_every_command_line_the_docs_show_exists_in_the_parser(shown: Shown) -> None:
    if shown.subcommand is None:
        known = options_of(PARSER)
    else:
        assert shown.subcommand in SUBCOMMANDS, f"{shown.where}: no subcommand {shown.subcommand!r}"
        known = options_of(SUBCOMMANDS[shown.subcommand])
    unknown = [o for o in shown.options if o not in known]
    assert not unknown, f"{shown.where}: `mobile-ingress {shown.subcommand}` has no option {unknown}"


def test_a_command_line_with_an_option_the_parser_lacks_is_caught(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("Run:\n\n    mobile-ingress detect --lookup DIR\n                          [--colour]\n")
    (shown,) = shown_command_lines(doc)
    assert shown.subcommand == "detect" and shown.options == ("--lookup", "--colour")
    assert not set(shown.options) & options_of(SUBCOMMANDS["detect"])


def test_prose_outside_code_blocks_is_not_read_as_a_command_line(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "Run mobile-ingress detect --colour, or:\n\n```\n"
        "mobile-ingress evaluate --truth T F\n```\n"
    )
    assert [(s.subcommand, s.options) for s in shown_command_lines(doc)] == [("evaluate", ("--truth",))]


@pytest.mark.parametrize("subcommand", sorted(SUBCOMMANDS))
def test_every_subcommand_has_its_section_in_the_reference(subcommand: str) -> None:
    assert subcommand in reference_sections(), f"docs/cli.md has no section `mobile-ingress {subcommand}`"


@pytest.mark.parametrize("subcommand", sorted(SUBCOMMANDS))
def test_every_option_of_the_parser_is_described_in_its_section(subcommand: str) -> None:
    section = reference_sections().get(subcommand, "")
    described = set(re.findall(r"\| `(--[a-z][a-z0-9-]*)", section))
    missing = sorted(options_of(SUBCOMMANDS[subcommand]) - described)
    assert not missing, f"docs/cli.md, `mobile-ingress {subcommand}`: no row for {missing}"


@pytest.mark.parametrize("subcommand", sorted(SUBCOMMANDS))
def test_the_reference_describes_no_option_the_parser_lacks(subcommand: str) -> None:
    section = reference_sections().get(subcommand, "")
    described = set(re.findall(r"\| `(--[a-z][a-z0-9-]*)", section))
    extra = sorted(described - options_of(SUBCOMMANDS[subcommand]))
    assert not extra, f"docs/cli.md, `mobile-ingress {subcommand}`: rows for options it lacks: {extra}"


@pytest.mark.parametrize("subcommand", sorted(SUBCOMMANDS))
def test_the_choices_the_reference_lists_are_the_parsers(subcommand: str) -> None:
    section = reference_sections().get(subcommand, "")
    for action in SUBCOMMANDS[subcommand]._actions:
        if action.choices is None or not action.option_strings:
            continue
        option = action.option_strings[-1]
        row = re.search(rf"^\| `{re.escape(option)} ([^`]*)`", section, flags=re.MULTILINE)
        assert row is not None, f"docs/cli.md: no row for {option}"
        listed = row.group(1).replace("\\|", "|").split("|")
        assert listed == [str(c) for c in action.choices], f"docs/cli.md: {option} lists {listed}"
