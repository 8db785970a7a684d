"""Splunk's .conf.spec files as key checkers, and the check of the app's shipped confs against them.

A .conf.spec file documents each valid setting as a line at column 0, `key = <value>`, under the
stanza it belongs to (`[<stanza name>]`, `[launcher]`, `[statsd-dims:<name>]`, ...); keys before the
first stanza are global (they apply in every stanza). `<...>` in a key or stanza is a wildcard:
`EVAL-<fieldname>`, `field.<name>`, `[<fieldname>=<value>]`. Prose lines (descriptions start with
`*` or are indented; a few column-0 lines of examples) are not keys: a key is one word, placeholders
aside.

ES adds settings to savedsearches.conf that no core spec documents (`action.correlationsearch.*`,
`action.notable.param.*`, `action.risk.param.*`): those are checked by name against the keys
Splunk's contentctl writes for a detection (tests/data/contentctl), also with `<...>` wildcards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ES_PREFIXES = ("action.correlationsearch.", "action.notable.", "action.risk.")
ES_CONF = "savedsearches.conf"
PLACEHOLDER = re.compile(r"<[^<>]*>")
KEY_LINE = re.compile(r"^(?P<key>[^\s#*=\[][^=]*?)\s*=")
KEY_SHAPE = re.compile(r"^[\w.\-:]+$")


class ConfError(Exception):
    """A conf or spec file that cannot be read."""


@dataclass(frozen=True)
class Setting:
    stanza: str
    key: str
    value: str
    line: int


def read_conf(path: Path) -> list[Setting]:
    """Every `key = value` of a .conf file in order, with its stanza (`default` before the first
    header, as Splunk reads it) and line number; a trailing backslash continues a value."""
    settings: list[Setting] = []
    stanza = "default"
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        start = i + 1
        line = lines[i]
        i += 1
        while line.endswith("\\") and i < len(lines):
            line = line[:-1] + "\n" + lines[i]
            i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            stanza = stripped[1:-1]
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ConfError(f"{path.name} line {start}: not `key = value`: {line!r}")
        settings.append(Setting(stanza, key.strip(), value.strip(), start))
    return settings


def stanzas_of(path: Path) -> dict[str, dict[str, str]]:
    """{stanza: {key: value}} of a .conf file (a repeated key: the last one, as Splunk merges)."""
    out: dict[str, dict[str, str]] = {}
    for setting in read_conf(path):
        out.setdefault(setting.stanza, {})[setting.key] = setting.value
    return out


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """A spec key or stanza with each `<...>` matching one or more characters."""
    parts = PLACEHOLDER.split(pattern)
    return re.compile("^" + ".+".join(re.escape(part) for part in parts) + "$")


def literal_length(pattern: str) -> int:
    return len(PLACEHOLDER.sub("", pattern))


@dataclass
class Spec:
    """The keys of one .conf.spec file: global ones and those of each documented stanza."""

    name: str
    global_keys: list[str] = field(default_factory=list)
    stanza_keys: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Spec:
        spec = cls(path.name)
        current: list[str] = spec.global_keys
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("[") and line.rstrip().endswith("]"):
                current = spec.stanza_keys.setdefault(line.rstrip()[1:-1], [])
                continue
            match = KEY_LINE.match(line)
            if match and KEY_SHAPE.match(PLACEHOLDER.sub("x", match.group("key"))):
                current.append(match.group("key"))
        if not spec.global_keys and not any(spec.stanza_keys.values()):
            raise ConfError(f"{path}: no `key = <value>` line at column 0")
        return spec

    def stanza_patterns(self, stanza: str) -> list[str]:
        """The documented stanzas a shipped stanza is: the most literal of those that match it
        (`[statsd-dims:x]` is `[statsd-dims:<name>]`, not the general `[<name>]`)."""
        matching = [p for p in self.stanza_keys if stanza == "default" or wildcard_regex(p).match(stanza)]
        if not matching or stanza == "default":
            return matching
        best = max(literal_length(p) for p in matching)
        return [p for p in matching if literal_length(p) == best]

    def keys_for(self, stanza: str) -> list[str] | None:
        """Spec keys valid in a stanza, None when the spec documents no such stanza."""
        patterns = self.stanza_patterns(stanza)
        if not patterns and self.stanza_keys:
            return None
        keys = list(self.global_keys)
        for pattern in patterns:
            keys.extend(self.stanza_keys[pattern])
        return keys

    def defines(self, stanza: str, key: str) -> bool:
        keys = self.keys_for(stanza)
        return keys is not None and any(matches(pattern, key) for pattern in keys)


def matches(pattern: str, key: str) -> bool:
    return pattern == key or ("<" in pattern and bool(wildcard_regex(pattern).match(key)))


def read_key_list(path: Path) -> list[str]:
    """One key per line; `#` comments and blank lines are skipped."""
    keys = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    keys = [key for key in keys if key and not key.startswith("#")]
    if not keys:
        raise ConfError(f"{path}: no key")
    return keys


@dataclass(frozen=True)
class ConfViolation:
    conf: str
    stanza: str
    key: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.conf} [{self.stanza}] {self.key} (line {self.line}): {self.reason}"


def is_es_key(conf: str, key: str) -> bool:
    return conf == ES_CONF and key.startswith(ES_PREFIXES)


def check_settings(
    conf: str, settings: list[Setting], spec: Spec | None, es_keys: list[str]
) -> list[ConfViolation]:
    """Every setting whose key its spec (or, for ES keys, contentctl's list) does not define."""
    violations = []
    for setting in settings:
        if is_es_key(conf, setting.key):
            if not any(matches(pattern, setting.key) for pattern in es_keys):
                reason = "not an ES key that contentctl's savedsearches_detections.j2 writes"
                violations.append(ConfViolation(conf, setting.stanza, setting.key, setting.line, reason))
            continue
        if spec is None:
            reason = f"no {conf}.spec in the vendored Splunk specs"
        elif spec.keys_for(setting.stanza) is None:
            reason = f"{spec.name} documents no stanza like [{setting.stanza}]"
        elif not spec.defines(setting.stanza, setting.key):
            reason = f"{spec.name} does not define this key in a stanza like [{setting.stanza}]"
        else:
            continue
        violations.append(ConfViolation(conf, setting.stanza, setting.key, setting.line, reason))
    return violations


def check_conf_file(path: Path, specs_dir: Path, es_keys: list[str]) -> list[ConfViolation]:
    spec_path = specs_dir / (path.name + ".spec")
    spec = Spec.read(spec_path) if spec_path.is_file() else None
    return check_settings(path.name, read_conf(path), spec, es_keys)
