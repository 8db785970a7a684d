"""The detection settings tab: the four scalar mutable elements (contract section 2), stored as the
macros `mobile_ingress_<name>` that the saved searches pass to `ingresscorrelate`.

The page reads and writes the macros themselves (no copy in another conf file that could drift),
validates with the engine's own `parse_setting` (the same message as `--set` on the command line
and the search command's option), and keeps the window rule: when `time_window` or `clock_skew`
grows past what a correlation search's dispatch window covers, the search's
`dispatch.earliest_time` is widened first, then the macro is written, so a failure half-way leaves
a wider window (harmless) rather than a window too short. A schedule the rule cannot be checked
on is refused with the reason (setup_window.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from mobile_ingress.engine.errors import SettingError
from mobile_ingress.engine.settings import PREFIX, SETTING_NAMES, Settings, parse_setting

from .setup_splunkd import SplunkdSetup
from .setup_window import plan

DESCRIPTIONS = {
    "time_window": "Seconds from a retrieval to the file it stages, and from the staged file to its "
    "follow-on stages (above 0). A larger value also widens the correlation searches' dispatch "
    "window when needed.",
    "ingress_bytes_threshold": "Minimum inbound bytes for a retrieval to count (0 or more; at or "
    "above passes).",
    "foreground_state_required": "true: keep a finding only when the app was in the background, the "
    "device locked, or there was no recent user interaction.",
    "clock_skew": "Seconds a staged file may precede its retrieval, as sensor and device clocks "
    "differ (0 or more).",
}
NAMES = tuple(DESCRIPTIONS)
WINDOW_NAMES = ("time_window", "clock_skew")


def _shown(value: object) -> str:
    """A default as the setup page shows a value: 300, not 300.0; false, not False."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


DEFAULTS_TEXT = ", ".join(f"{name} {_shown(getattr(Settings(), name))}" for name in SETTING_NAMES)
LAG_MACRO = "mobile_ingress_ingest_lag_seconds"


class SettingRefused(ValueError):
    """A change the page refuses; the message is what the user sees."""


@dataclass
class SettingChange:
    name: str
    value: str  # the macro definition written
    dispatch: dict[str, str]  # saved search -> new dispatch.earliest_time


def macro_name(name: str) -> str:
    return PREFIX + name


def canonical(name: str, raw: object) -> str:
    """The engine's typed value as the macro's text (`300`, `0.5`, `true`); SettingRefused with
    the engine's message when it refuses the value or the name."""
    try:
        value = parse_setting(name, raw)
    except SettingError as exc:
        raise SettingRefused(f"{exc}.") from None
    if isinstance(value, bool):
        return "true" if value else "false"
    assert isinstance(value, float)
    return str(int(value)) if value.is_integer() else repr(value)


class DetectionSettings:
    def __init__(self, splunkd: SplunkdSetup) -> None:
        self.splunkd = splunkd

    def values(self) -> dict[str, str]:
        return {name: self.splunkd.macro(macro_name(name)).strip() for name in NAMES}

    def ingest_lag(self) -> float:
        """Seconds events take to reach the index (macro mobile_ingress_ingest_lag_seconds): the
        dispatch window covers it. An unreadable value counts as 0 rather than block the change."""
        try:
            lag = float(self.splunkd.macro(LAG_MACRO).strip())
        except ValueError:
            return 0.0
        return lag if lag >= 0 else 0.0

    def create(self, name: str) -> None:
        if name in NAMES:
            raise SettingRefused(f"The detection setting {name} already exists: edit it instead.")
        canonical(name, "")  # the engine's "unknown element ...; known: ..." message
        raise SettingRefused(f"unknown element {name!r}.")  # unreachable unless the engine changes

    def remove(self, name: str) -> None:
        raise SettingRefused(
            f"The detection setting {name} cannot be deleted: every detection needs it. Edit its value "
            f"instead (defaults: {DEFAULTS_TEXT})."
        )

    def edit(self, name: str, raw: object, check: Callable[[str], None] | None = None) -> SettingChange:
        """Validate (the engine first, then CHECK on the canonical value), keep the window rule,
        write the macro."""
        value = canonical(name, raw)  # also refuses an unknown name with the engine's message
        if check is not None:
            check(value)
        dispatch: dict[str, str] = {}
        if name in WINDOW_NAMES:
            current = self.values()
            current[name] = value
            window = float(canonical("time_window", current["time_window"]))
            skew = float(canonical("clock_skew", current["clock_skew"]))
            searches = self.splunkd.saved_searches(uses="`" + macro_name("time_window") + "`")
            try:
                dispatch = plan(searches, window, skew, self.ingest_lag())
            except ValueError as exc:
                raise SettingRefused(str(exc)) from None
            for search, earliest in dispatch.items():
                self.splunkd.set_dispatch_earliest(search, earliest)
        self.splunkd.set_macro(macro_name(name), value)
        return SettingChange(name, value, dispatch)
