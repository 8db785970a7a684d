"""Render dashboards/definitions/*.json into package/default/data/ui/views/*.xml.

    python tools/render_dashboards.py           # write the views
    python tools/render_dashboards.py --check   # exit 1 when a view is missing, stale or extra

The JSON files are the source (readable diffs, one file per dashboard); each view is the form
Splunk stores a Dashboard Studio dashboard in: `<dashboard version="2" theme="...">` with the
definition as JSON inside `<definition><![CDATA[...]]></definition>`. The label in the app's
navigation is the title after "Mobile Ingress - ". The tests check the views are up to date.

The analytics come from the engine's registry (src/mobile_ingress/engine/analytics.py), never from
a definition: an item "{{analytic_choices}}" of a list becomes one dropdown item per analytic
(label "<id> <name>", value the id), a value "{{analytic_colors}}" becomes a color per analytic
(ANALYTIC_COLORS, in registry order), and `{{analytics}}`, `{{technique}}` and
`{{detection_strategy}}` in any text become "AN1848 Android, AN1849 iOS", "T1544" and "DET0718".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from analytic_texts import PlaceholderError, attack_ids, fill, joined

from mobile_ingress.engine.analytics import ANALYTICS, Analytics

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "dashboards" / "definitions"
VIEWS = ROOT / "package" / "default" / "data" / "ui" / "views"
TITLE_PREFIX = "Mobile Ingress - "
THEME = "light"
# Views UCC generates from globalConfig.json: never written or removed here.
UCC_VIEWS = frozenset({"configuration", "inputs", "dashboard", "redirect"})
CHOICES = "{{analytic_choices}}"
COLORS = "{{analytic_colors}}"
# Series colors of the analytics, in registry order: Dashboard Studio's categorical colors.
ANALYTIC_COLORS = ("#009CEB", "#7B56DB", "#00CDAF", "#DD9900", "#FF677B", "#CB2196", "#813193", "#0051B5")


class DefinitionError(Exception):
    """A definition that cannot become a view."""


def with_analytics(
    definition: dict[str, Any], analytics: Analytics = ANALYTICS, colors: Sequence[str] = ANALYTIC_COLORS
) -> dict[str, Any]:
    """The definition with the registry's analytics in place of its placeholders (module docstring)."""
    if len(analytics) > len(colors):
        raise DefinitionError(
            f"{len(analytics)} analytics but {len(colors)} colors: add colors to ANALYTIC_COLORS"
        )
    techniques, strategies = attack_ids(analytics)
    values = {
        "analytics": joined((f"{a.id} {a.name}" for a in analytics), last=", "),
        "technique": joined(techniques),
        "detection_strategy": joined(strategies),
    }
    choices = [{"label": f"{a.id} {a.name}", "value": a.id} for a in analytics]
    by_id = {a.id: color for a, color in zip(analytics, colors)}

    def walk(node: Any, where: str) -> Any:
        if isinstance(node, dict):
            return {key: walk(value, f"{where}/{key}") for key, value in node.items()}
        if isinstance(node, list):
            out: list[Any] = []
            for index, item in enumerate(node):
                out.extend(choices if item == CHOICES else [walk(item, f"{where}/{index}")])
            return out
        if node == COLORS:
            return dict(by_id)
        if isinstance(node, str):
            try:
                return fill(node, values, where)
            except PlaceholderError as exc:
                raise DefinitionError(str(exc)) from None
        return node

    result: dict[str, Any] = walk(definition, "")
    return result


def render_view(definition: dict[str, Any], analytics: Analytics = ANALYTICS) -> str:
    definition = with_analytics(definition, analytics)
    title = definition.get("title")
    if not isinstance(title, str) or not title.startswith(TITLE_PREFIX):
        raise DefinitionError(f"title must start with {TITLE_PREFIX!r}, got {title!r}")
    description = definition.get("description", "")
    body = json.dumps(definition, indent=4, ensure_ascii=False)
    if "]]>" in body:
        raise DefinitionError("the definition contains ']]>', which would end its CDATA section")
    return (
        f'<dashboard version="2" theme="{THEME}">\n'
        f"    <label>{escape(title[len(TITLE_PREFIX) :])}</label>\n"
        f"    <description>{escape(str(description))}</description>\n"
        f"    <definition><![CDATA[\n{body}\n    ]]></definition>\n"
        '    <meta type="hiddenElements"><![CDATA[\n'
        '{"hideEdit": false, "hideOpenInSearch": false, "hideExport": false}\n'
        "    ]]></meta>\n"
        "</dashboard>\n"
    )


def rendered(sources: Path = SOURCES, analytics: Analytics = ANALYTICS) -> dict[str, str]:
    """{view file name: XML} for every definition."""
    out = {}
    for path in sorted(sources.glob("*.json")):
        try:
            definition = json.loads(path.read_text(encoding="utf-8"))
            out[path.stem + ".xml"] = render_view(definition, analytics)
        except (ValueError, DefinitionError) as exc:
            raise SystemExit(f"{path}: {exc}") from None
    if not out:
        raise SystemExit(f"no dashboard definitions in {sources}")
    return out


def stale(views: Path = VIEWS) -> list[str]:
    """Problems that --check reports: missing or outdated views, and views with no source."""
    want = rendered()
    problems = []
    for name, text in want.items():
        path = views / name
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path} is stale")
    for path in sorted(views.glob("*.xml")):
        if path.name not in want and path.stem not in UCC_VIEWS:
            problems.append(f"{path} has no source in {SOURCES}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a view is not up to date")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale()
        for problem in problems:
            print(f"render_dashboards: {problem}; run tools/render_dashboards.py", file=sys.stderr)
        return 1 if problems else 0
    VIEWS.mkdir(parents=True, exist_ok=True)
    for name, text in rendered().items():
        (VIEWS / name).write_text(text, encoding="utf-8")
        print(f"wrote {VIEWS / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
