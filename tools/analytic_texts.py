"""The analytics registry's texts in rendered files: `{{name}}` placeholders, filled by the render tools.

tools/render_detections.py fills the texts of a detection YAML, tools/render_dashboards.py those of
a dashboard definition; both take their values from the registry
(src/mobile_ingress/engine/analytics.py) through `attack_ids` and `joined`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from mobile_ingress.engine.analytics import Analytic

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


class PlaceholderError(Exception):
    """A `{{name}}` no value is given for."""


def fill(text: str, values: Mapping[str, str], where: str) -> str:
    """`text` with each `{{name}}` replaced by values[name]; an unknown name is refused."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            known = ", ".join("{{" + key + "}}" for key in values)
            raise PlaceholderError(f"{where}: unknown placeholder {{{{{name}}}}} (known: {known})")
        return values[name]

    return PLACEHOLDER.sub(value, text)


def joined(items: Iterable[str], last: str = " and ") -> str:
    """Words joined as "a", "a and b", "a, b and c" (`last` between the last two)."""
    words = list(items)
    return words[0] if len(words) <= 1 else ", ".join(words[:-1]) + last + words[-1]


def attack_ids(analytics: Iterable[Analytic]) -> tuple[list[str], list[str]]:
    """The ATT&CK techniques and detection strategies of the analytics, each once, in order."""
    chosen = list(analytics)
    techniques = list(dict.fromkeys(a.technique for a in chosen))
    strategies = list(dict.fromkeys(a.detection_strategy for a in chosen))
    return techniques, strategies
