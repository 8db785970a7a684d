"""Every dashboard token that reaches SPL is quoted by Dashboard Studio's `s` filter (`$name|s$`:
quotes around the value, its quotes and backslashes escaped), so an input value cannot end the
string and add search terms of its own (issue 15). Tokens elsewhere (markdown, a drilldown URL,
the time range's `queryParameters`) are not SPL.
https://help.splunk.com/splunk-enterprise/create-dashboards-and-reports/dashboard-studio/10.0/make-dashboards-dynamic-and-interactive/tokens
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

DEFINITIONS = sorted((Path(__file__).resolve().parents[2] / "dashboards" / "definitions").glob("*.json"))
TOKEN = re.compile(r"\$([A-Za-z_][\w.]*)(\|[\w|]+)?\$")


def queries(definition: dict[str, object]) -> list[tuple[str, str]]:
    sources = definition.get("dataSources", {})
    assert isinstance(sources, dict)
    return [(name, str(source.get("options", {}).get("query", ""))) for name, source in sources.items()]


def unquoted(query: str) -> list[str]:
    return [m.group(0) for m in TOKEN.finditer(query) if "s" not in (m.group(2) or "").split("|")]


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.stem)
def test_every_token_in_a_query_is_quoted_with_the_s_filter(path: Path) -> None:
    definition = json.loads(path.read_text(encoding="utf-8"))
    found = {name: unquoted(query) for name, query in queries(definition) if unquoted(query)}
    assert found == {}, found


def test_an_unquoted_token_is_found() -> None:
    assert unquoted('| search analytic_id="$analytic$" x=$y|s$') == ["$analytic$"]
    assert unquoted("| search analytic_id=$analytic|s$") == []


def test_the_dashboards_are_read() -> None:
    assert len(DEFINITIONS) >= 4
    assert any(TOKEN.search(q) for p in DEFINITIONS for _, q in queries(json.loads(p.read_text())))
