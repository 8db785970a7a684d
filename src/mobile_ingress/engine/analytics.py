"""The analytics of the detection strategy, declared once.

Each analytic says what it is (its id, platform, ATT&CK technique and detection strategy, its
display name), which rule of contract section 3 it runs, and how its findings are scored. The
engine reads the registry to stamp findings (engine/chain.py, engine/findings.py);
tools/render_detections.py and tools/render_dashboards.py read it to render the confs and the
dashboards' analytic choices. Adding an analytic is one entry in `ANALYTICS`
(docs/adding-an-analytic.md).

Everything that takes a registry takes it as a parameter whose default is `ANALYTICS`, so a test
builds its own `Analytics` instead of patching this one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from .errors import EngineError

ANALYTIC_ID = re.compile(r"AN[0-9]{4}")
TECHNIQUE_ID = re.compile(r"T[0-9]{4}(\.[0-9]{3})?")
DETECTION_STRATEGY_ID = re.compile(r"DET[0-9]{4}")


class Platform(str, Enum):
    """The platforms of the contract (section 1: `platform`)."""

    ANDROID = "android"
    IOS = "ios"

    @property
    def label(self) -> str:
        return _PLATFORM_LABELS[self]


_PLATFORM_LABELS = {Platform.ANDROID: "Android", Platform.IOS: "iOS"}


class Rule(str, Enum):
    """The rules of contract section 3 the engine implements (engine/chain.py)."""

    CHAIN = "chain"  # a retrieval R, then a risky file F staged from it
    IOS_RETRIEVAL_ONLY = "ios_retrieval_only"  # a retrieval alone, by a managed iOS app without a role


# Where each rule can run: the retrieval-only rule exists for iOS alone (its telemetry is thin).
RULE_PLATFORMS: Mapping[Rule, frozenset[Platform]] = MappingProxyType(
    {Rule.CHAIN: frozenset(Platform), Rule.IOS_RETRIEVAL_ONLY: frozenset({Platform.IOS})}
)


class Severity(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


# ---------------------------------------------------------------------------------------- errors


class AnalyticError(EngineError):
    """Base class of a registry that cannot be: each subclass names what was wrong and where."""


class MalformedAnalyticId(AnalyticError):
    """An analytic id that is not `AN` and four digits."""


class MalformedAttackId(AnalyticError):
    """A technique or detection strategy id that is not ATT&CK's form (T1544, DET0718)."""


class UnknownPlatform(AnalyticError):
    """A platform the contract does not have."""


class UnknownRule(AnalyticError):
    """A rule the engine does not implement."""


class RuleNotOnPlatform(AnalyticError):
    """A rule run on a platform it does not exist for (the retrieval-only rule off iOS)."""


class MissingText(AnalyticError):
    """An analytic without its display name."""


class BadScoring(AnalyticError):
    """Severity bands out of order, or a rule without its base score."""


class DuplicateAnalytic(AnalyticError):
    """Two analytics with one id."""


class RuleClaimedTwice(AnalyticError):
    """Two analytics running the same rule on the same platform: a finding would have two ids."""


class UncoveredPlatform(AnalyticError):
    """A platform of the contract that no analytic runs the chain rule on."""


class UnknownAnalytic(AnalyticError):
    """An id the registry does not hold (e.g. named by a detection YAML)."""


# --------------------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class SeverityBands:
    """The lowest risk score of each severity above `low` (docs/detections.md, "The score")."""

    medium: int
    high: int
    critical: int

    def __post_init__(self) -> None:
        if not 0 < self.medium < self.high < self.critical <= 100:
            raise BadScoring(
                "severity bands must rise within 1..100 (0 < medium < high < critical <= 100), "
                f"got medium={self.medium}, high={self.high}, critical={self.critical}"
            )

    def of(self, score: int) -> Severity:
        if score < self.medium:
            return Severity.LOW
        if score < self.high:
            return Severity.MEDIUM
        if score < self.critical:
            return Severity.HIGH
        return Severity.CRITICAL


@dataclass(frozen=True)
class Scoring:
    """The score formula: a base by rule, then points for the risk class, each follow-on stage and
    each context flag, capped at 100. Every term is non-negative, so the score is monotonic in
    stages and context."""

    base: Mapping[Rule, int]
    class_points: Mapping[str, int]
    stage_points: Mapping[str, int]
    context_points: Mapping[str, int]
    bands: SeverityBands

    def __post_init__(self) -> None:
        missing = [rule.value for rule in Rule if rule not in self.base]
        if missing:
            raise BadScoring(f"the scoring has no base score for rule(s) {', '.join(missing)}")
        for name in ("base", "class_points", "stage_points", "context_points"):
            table: Mapping[object, int] = getattr(self, name)
            negative = sorted(str(key) for key, points in table.items() if points < 0)
            if negative:
                raise BadScoring(
                    f"{name} must be non-negative, got negative points for {', '.join(negative)}"
                )
            # read-only, so a shared scoring cannot be changed through one analytic
            object.__setattr__(self, name, MappingProxyType(dict(table)))

    def score(self, rule: Rule, risk_class: str | None, stages: Iterable[str], context: Iterable[str]) -> int:
        total = self.base[rule]
        total += self.class_points.get(risk_class or "", 0)
        total += sum(self.stage_points.get(stage, 0) for stage in stages)
        total += sum(self.context_points.get(item, 0) for item in context)
        return min(100, total)

    def severity(self, score: int) -> Severity:
        return self.bands.of(score)


# The score of DET0718's analytics (docs/detections.md, "The score").
DET0718_SCORING = Scoring(
    base={Rule.CHAIN: 25, Rule.IOS_RETRIEVAL_ONLY: 10},
    class_points={
        "package": 20,
        "executable": 20,
        "library": 20,
        "overlay": 15,
        "script": 10,
        "archive": 10,
        "opaque": 10,
    },
    stage_points={"unpack": 10, "load": 20, "handoff": 15, "repeat_retrieval": 10},
    context_points={"background": 10, "device_locked": 10, "no_user_interaction": 5, "unapproved_role": 10},
    bands=SeverityBands(medium=25, high=50, critical=75),
)


# -------------------------------------------------------------------------------------- analytic


@dataclass(frozen=True)
class Analytic:
    """One analytic. `platform` and `rules` accept their enums' values (e.g. from YAML) too."""

    id: str
    platform: Platform
    rules: frozenset[Rule]
    technique: str  # the ATT&CK technique its findings carry as technique_id
    detection_strategy: str  # the ATT&CK detection strategy its findings carry
    name: str  # the display name: dashboards show "<id> <name>", descriptions "<id> (<name>)"
    scoring: Scoring = DET0718_SCORING

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not ANALYTIC_ID.fullmatch(self.id):
            raise MalformedAnalyticId(
                f"analytic id {self.id!r} is not AN followed by four digits (e.g. AN1848)"
            )
        where = f"analytic {self.id}"
        for label, value, pattern in (
            ("technique", self.technique, TECHNIQUE_ID),
            ("detection_strategy", self.detection_strategy, DETECTION_STRATEGY_ID),
        ):
            if not isinstance(value, str) or not pattern.fullmatch(value):
                raise MalformedAttackId(f"{where}: {label} {value!r} is not of the form {pattern.pattern}")
        try:
            platform = Platform(self.platform)
        except ValueError:
            known = ", ".join(p.value for p in Platform)
            raise UnknownPlatform(f"{where}: platform {self.platform!r} is not one of {known}") from None
        rules = frozenset(_rule(where, rule) for rule in self.rules)
        if not rules:
            raise UnknownRule(f"{where}: runs no rule (give at least one of {_known_rules()})")
        for rule in sorted(rules):
            if platform not in RULE_PLATFORMS[rule]:
                allowed = ", ".join(sorted(p.value for p in RULE_PLATFORMS[rule]))
                raise RuleNotOnPlatform(
                    f"{where}: rule {rule.value} runs on {allowed} only, not on {platform.value}"
                )
        if not isinstance(self.name, str) or not self.name.strip():
            raise MissingText(f"{where}: the display name is empty")
        object.__setattr__(self, "platform", platform)
        object.__setattr__(self, "rules", rules)

    def runs(self, rule: Rule) -> bool:
        return rule in self.rules


def _known_rules() -> str:
    return ", ".join(rule.value for rule in Rule)


def _rule(where: str, value: object) -> Rule:
    try:
        return Rule(value)
    except ValueError:
        raise UnknownRule(f"{where}: rule {value!r} is not one the engine has ({_known_rules()})") from None


# -------------------------------------------------------------------------------------- registry


class Analytics:
    """The registry: analytics by id, checked as a whole. Every platform of the contract has
    exactly one analytic running the chain rule; no rule runs on one platform for two analytics."""

    def __init__(self, analytics: Iterable[Analytic]) -> None:
        self._by_id: dict[str, Analytic] = {}
        # keyed by the enums' values: the engine asks with the event's platform, a plain str
        self._by_rule: dict[tuple[str, str], Analytic] = {}
        for analytic in analytics:
            if analytic.id in self._by_id:
                raise DuplicateAnalytic(f"analytic {analytic.id} is declared twice")
            self._by_id[analytic.id] = analytic
            for rule in sorted(analytic.rules):
                key = (rule.value, analytic.platform.value)
                other = self._by_rule.get(key)
                if other is not None:
                    raise RuleClaimedTwice(
                        f"analytics {other.id} and {analytic.id} both run rule {rule.value} "
                        f"on {analytic.platform.value}"
                    )
                self._by_rule[key] = analytic
        for platform in Platform:
            if (Rule.CHAIN.value, platform.value) not in self._by_rule:
                raise UncoveredPlatform(f"no analytic runs rule {Rule.CHAIN.value} on {platform.value}")

    def __iter__(self) -> Iterator[Analytic]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def ids(self) -> list[str]:
        return list(self._by_id)

    def get(self, analytic_id: str) -> Analytic:
        try:
            return self._by_id[analytic_id]
        except KeyError:
            known = ", ".join(self._by_id)
            raise UnknownAnalytic(f"analytic {analytic_id!r} is not in the registry ({known})") from None

    def running(self, rule: Rule, platform: str) -> Analytic | None:
        """The analytic that runs `rule` on `platform` (a Platform or its value), if any."""
        return self._by_rule.get((rule.value, _value(platform)))

    def chain(self, platform: str) -> Analytic:
        """The analytic of a chain on `platform` (there is always one)."""
        return self._by_rule[(Rule.CHAIN.value, _value(platform))]


def _value(platform: str) -> str:
    # an enum member hashes by its name, not its value: look it up by value
    return platform.value if isinstance(platform, Platform) else platform


# The registry (MITRE ATT&CK DET0718, https://attack.mitre.org/detectionstrategies/DET0718/:
# analytics AN1848 and AN1849 detect T1544, https://attack.mitre.org/techniques/T1544/).
ANALYTICS = Analytics(
    [
        Analytic(
            id="AN1848",
            platform=Platform.ANDROID,
            rules=frozenset({Rule.CHAIN}),
            technique="T1544",
            detection_strategy="DET0718",
            name="Android",
        ),
        Analytic(
            id="AN1849",
            platform=Platform.IOS,
            rules=frozenset({Rule.CHAIN, Rule.IOS_RETRIEVAL_ONLY}),
            technique="T1544",
            detection_strategy="DET0718",
            name="iOS",
        ),
    ]
)
