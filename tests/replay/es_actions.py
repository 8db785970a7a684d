"""What Enterprise Security's actions make of a correlation search's results, for the replays.

ES's notable and risk actions are not public code, so this models what is documented or shown by
Splunk's public code (notes and sources in docs/splunk.md, "Enterprise Security"):
- per-result alerting (`alert.digest_mode = 0`) with throttling: a result whose
  `alert.suppress.fields` values triggered within `alert.suppress.period` triggers no action, the
  notable and the risk action alike (Splunk: Alert/ThrottleAlerts; ES admin manual, "Throttle");
- a result's own `_time`, `severity` and `risk_score` win over the action's settings (the
  Common Action Model's `result2stash`; ES's `notable` macro enriches with `OUTPUTNEW`; the RBA
  docs' per-result `risk_score`);
- `$field$` tokens of the title, description, risk message and drilldowns take the result's field.
  ES leaves a token of a missing field in the text and renders multivalue tokens poorly (not
  documented): this model refuses both, so a notable that would show them fails the replay.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Union

Value = Union[str, list[str]]
Row = dict[str, Value]
TOKEN = re.compile(r"\$([A-Za-z_][A-Za-z0-9_.]*)\$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class TokenError(AssertionError):
    """A `$field$` ES could not fill sensibly: the field is missing, empty or multivalue."""


def substitute(text: str, row: Row, where: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        value = row.get(name)
        if isinstance(value, list):
            if len(value) != 1:
                raise TokenError(
                    f"{where}: ${name}$ is multivalue ({value!r}) in finding {row.get('finding_id')}"
                )
            value = value[0]
        if value is None or value == "":
            raise TokenError(f"{where}: ${name}$ is empty in finding {row.get('finding_id')}")
        return value

    return TOKEN.sub(one, text)


def single(row: Row, name: str) -> str | None:
    value = row.get(name)
    if isinstance(value, list):
        return value[0] if len(value) == 1 else None
    return value or None


def values(row: Row, name: str) -> list[str]:
    value = row.get(name)
    if value is None or value == "":
        return []
    return [v for v in value if v] if isinstance(value, list) else [value]


@dataclass
class Notable:
    time: float
    search_name: str
    rule_title: str
    rule_description: str
    severity: str
    security_domain: str
    drilldowns: list[dict[str, str]]
    fields: Row

    @property
    def finding_id(self) -> str:
        return str(single(self.fields, "finding_id"))


@dataclass
class RiskEvent:
    time: float
    search_name: str
    risk_object: str
    risk_object_type: str
    risk_score: float
    threat_objects: list[tuple[str, str]]
    risk_message: str
    finding_id: str


@dataclass
class EnterpriseSecurity:
    notables: list[Notable] = field(default_factory=list)
    risk: list[RiskEvent] = field(default_factory=list)
    throttled: int = 0
    _last_trigger: dict[tuple[str, tuple[str, ...]], float] = field(default_factory=dict)

    def receive(self, search_name: str, stanza: dict[str, str], rows: list[Row], now: float) -> None:
        """The actions of one run of SEARCH_NAME on its result ROWS, at NOW."""
        if stanza.get("alert.digest_mode", "1") != "0":
            raise AssertionError(f"{search_name}: only per-result alerting is modelled")
        suppress = stanza.get("alert.suppress") == "1"
        fields = [f.strip() for f in stanza.get("alert.suppress.fields", "").split(",") if f.strip()]
        period = _seconds(stanza.get("alert.suppress.period", "0s"))
        for row in rows:
            if suppress:
                key = (search_name, tuple(str(single(row, f)) for f in fields))
                last = self._last_trigger.get(key)
                if last is not None and now - last < period:
                    self.throttled += 1
                    continue
                self._last_trigger[key] = now
            time = float(single(row, "_time") or now)
            if stanza.get("action.notable") == "1":
                self.notables.append(self._notable(search_name, stanza, row, time))
            if stanza.get("action.risk") == "1":
                self.risk.extend(self._risk(search_name, stanza, row, time))

    @staticmethod
    def _notable(search_name: str, stanza: dict[str, str], row: Row, time: float) -> Notable:
        drilldowns = [
            {key: substitute(value, row, f"{search_name} drilldown") for key, value in item.items()}
            for item in json.loads(stanza.get("action.notable.param.drilldown_searches", "[]"))
        ]
        return Notable(
            time=time,
            search_name=search_name,
            rule_title=substitute(stanza["action.notable.param.rule_title"], row, f"{search_name} title"),
            rule_description=substitute(
                stanza["action.notable.param.rule_description"], row, f"{search_name} description"
            ),
            severity=single(row, "severity") or stanza["action.notable.param.severity"],
            security_domain=stanza["action.notable.param.security_domain"],
            drilldowns=drilldowns,
            fields=dict(row),
        )

    @staticmethod
    def _risk(search_name: str, stanza: dict[str, str], row: Row, time: float) -> list[RiskEvent]:
        entries = json.loads(stanza["action.risk.param._risk"])
        threats = [
            (value, entry["threat_object_type"])
            for entry in entries
            if "threat_object_field" in entry
            for value in values(row, entry["threat_object_field"])
        ]
        message = substitute(stanza["action.risk.param._risk_message"], row, f"{search_name} risk message")
        events = []
        for entry in entries:
            if "risk_object_field" not in entry:
                continue
            for obj in values(row, entry["risk_object_field"]):
                score = single(row, "risk_score")
                events.append(
                    RiskEvent(
                        time=time,
                        search_name=search_name,
                        risk_object=obj,
                        risk_object_type=entry["risk_object_type"],
                        risk_score=float(score) if score is not None else float(entry["risk_score"]),
                        threat_objects=threats,
                        risk_message=message,
                        finding_id=str(single(row, "finding_id")),
                    )
                )
        return events


def _seconds(text: str) -> int:
    match = re.fullmatch(r"(\d+)([smhd]?)", text.strip())
    if not match:
        raise AssertionError(f"alert.suppress.period {text!r} not understood")
    return int(match.group(1)) * UNITS[match.group(2) or "s"]
