"""The finding (contract section 4): fields, identity, score, severity and explanation."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from enum import Enum

from .analytics import Analytic, Rule, Severity
from .timeparse import round_ms

STAGES = ("retrieval", "staging", "unpack", "load", "handoff", "repeat_retrieval")
CONTEXTS = ("background", "device_locked", "no_user_interaction", "unapproved_role")

FIELDS = (
    "finding_id",
    "analytic_id",
    "detection_strategy",
    "technique_id",
    "platform",
    "device_id",
    "user",
    "app_id",
    "dest",
    "dest_ip",
    "url",
    "bytes_in",
    "file_path",
    "file_hash",
    "file_type",
    "risk_class",
    "stages",
    "context",
    "first_time",
    "last_time",
    "delta_seconds",
    "risk_score",
    "severity",
    "confidence",
    "evidence",
    "explanation",
)
LIST_FIELDS = ("stages", "context", "evidence")
# Events a finding's evidence names at most. One device can send thousands of repeat retrievals or
# loads inside a window, and every finding would list them all (output growing with the square of
# the input); past this the evidence keeps R, F and the earliest others, and the explanation says
# that more were seen (docs/contract-decisions.md, "Findings").
MAX_EVIDENCE = 100


class Confidence(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def make_finding_id(analytic_id: str, device_id: str, app_id: str | None, subject: str, time: float) -> str:
    parts = [analytic_id, device_id, app_id or "", subject, str(round(time * 1000))]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:32]


def ordered(items: list[str], order: tuple[str, ...]) -> list[str]:
    return [item for item in order if item in items]


@dataclass
class Finding:
    analytic: Analytic  # its id, ATT&CK ids and scoring (engine/analytics.py)
    platform: str
    device_id: str
    user: str | None
    app_id: str | None
    dest: str
    dest_ip: str | None
    url: str | None
    bytes_in: float | None
    file_path: str | None
    file_name: str | None
    file_hash: str | None
    file_type: str | None
    risk_class: str | None
    stages: list[str]
    context: list[str]
    first_time: float
    last_time: float
    delta_seconds: float | None
    confidence: Confidence
    evidence: list[str]
    anchor_time: float  # F's time, or R's for a retrieval-only finding
    load_methods: list[str] = field(default_factory=list)
    suppressed_by: str | None = None
    evidence_cut: bool = False  # the finding held more events than its evidence names (MAX_EVIDENCE)

    @property
    def analytic_id(self) -> str:
        return self.analytic.id

    @property
    def retrieval_only(self) -> bool:
        return self.file_path is None

    @property
    def rule(self) -> Rule:
        return Rule.IOS_RETRIEVAL_ONLY if self.retrieval_only else Rule.CHAIN

    @property
    def finding_id(self) -> str:
        subject = self.dest if self.file_path is None else self.file_path
        return make_finding_id(self.analytic_id, self.device_id, self.app_id, subject, self.anchor_time)

    @property
    def risk_score(self) -> int:
        return self.analytic.scoring.score(self.rule, self.risk_class, self.stages, self.context)

    @property
    def severity(self) -> Severity:
        return self.analytic.scoring.severity(self.risk_score)

    def merge(self, other: Finding) -> None:
        """Unite another sighting of the same finding: stages, context and evidence."""
        self.stages = ordered(sorted(set(self.stages) | set(other.stages)), STAGES)
        self.context = ordered(sorted(set(self.context) | set(other.context)), CONTEXTS)
        seen = set(self.evidence)
        united = self.evidence + [e for e in other.evidence if e not in seen]
        self.evidence_cut = self.evidence_cut or other.evidence_cut or len(united) > MAX_EVIDENCE
        self.evidence = united[:MAX_EVIDENCE]
        self.first_time = min(self.first_time, other.first_time)
        self.last_time = max(self.last_time, other.last_time)

    def explanation(self) -> str:
        return explain(self)

    def to_dict(self) -> dict[str, object]:
        """Contract section 4 fields in order (plus `suppressed_by` on a tuning row)."""
        score = self.risk_score
        out: dict[str, object] = {
            "finding_id": self.finding_id,
            "analytic_id": self.analytic.id,
            "detection_strategy": self.analytic.detection_strategy,
            "technique_id": self.analytic.technique,
            "platform": self.platform,
            "device_id": self.device_id,
            "user": self.user,
            "app_id": self.app_id,
            "dest": self.dest,
            "dest_ip": self.dest_ip,
            "url": self.url,
            "bytes_in": _number(self.bytes_in),
            "file_path": self.file_path,
            "file_hash": self.file_hash,
            "file_type": self.file_type,
            "risk_class": self.risk_class,
            "stages": list(self.stages),
            "context": list(self.context),
            "first_time": round_ms(self.first_time),
            "last_time": round_ms(self.last_time),
            "delta_seconds": None if self.delta_seconds is None else round_ms(self.delta_seconds),
            "risk_score": score,
            "severity": self.analytic.scoring.severity(score).value,
            "confidence": self.confidence.value,
            "evidence": list(self.evidence),
            "explanation": self.explanation(),
        }
        if self.suppressed_by is not None:
            out["suppressed_by"] = self.suppressed_by
        return out


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _seconds(value: float) -> str:
    text = f"{abs(value):.3f}".rstrip("0").rstrip(".")
    return f"{text} second" + ("" if text == "1" else "s")


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


_STAGE_WORDS = {
    "unpack": "unpacked",
    "load": "loaded",
    "handoff": "handed to another app",
    "repeat_retrieval": "followed by another retrieval from the same host",
}
_CONTEXT_WORDS = {
    "background": "the app was in the background",
    "device_locked": "the device was locked",
    "no_user_interaction": "there was no recent user interaction",
    "unapproved_role": "the app is managed without an approved download role",
}


def _bytes(value: float | None) -> str:
    if value is None:
        return ""
    if not math.isfinite(value):  # never from the engine (byte counts are capped); never a crash
        return "an unknown number of bytes "
    return f"{int(value)} bytes "


def _held(f: Finding) -> str:
    if f.evidence_cut:
        return f" (the evidence names the first {len(f.evidence)} of more events)"
    return ""


def explain(f: Finding) -> str:
    app = f.app_id or "an unattributed app"
    size = _bytes(f.bytes_in)
    context = [_CONTEXT_WORDS[c] for c in f.context]
    context_text = f" while {_join(context)}" if context else ""
    if f.retrieval_only:
        repeat = ", and again within the window" if "repeat_retrieval" in f.stages else ""
        return (
            f"{app} on device {f.device_id} retrieved {size}from {f.dest}{repeat}"
            f"{context_text}; no file was seen, so this rests on the retrieval alone{_held(f)}."
        )
    assert f.delta_seconds is not None
    gap = (
        f"{_seconds(f.delta_seconds)} later"
        if f.delta_seconds >= 0
        else f"{_seconds(f.delta_seconds)} before the retrieval was logged (clock skew)"
    )
    stages = [_STAGE_WORDS[s] for s in f.stages if s in _STAGE_WORDS]
    if "load" in f.stages and f.load_methods:
        stages[stages.index("loaded")] = f"loaded ({', '.join(f.load_methods)})"
    stage_text = f", then {_join(stages)}" if stages else ""
    return (
        f"{app} on device {f.device_id} retrieved {size}from {f.dest} and wrote "
        f"{f.file_name} ({f.risk_class}) to {f.file_path} {gap}{stage_text}{context_text}{_held(f)}."
    )
