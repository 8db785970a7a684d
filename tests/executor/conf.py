"""Reading Splunk .conf files: stanzas of `key = value`, `#` comments, a trailing backslash
continues a value on the next line (https://docs.splunk.com/Documentation/Splunk/latest/Admin/Howtoeditaconfigurationfile)."""

from __future__ import annotations

from pathlib import Path

from .errors import SplError


def parse_conf(text: str, name: str = "<conf>") -> dict[str, dict[str, str]]:
    stanzas: dict[str, dict[str, str]] = {}
    current = stanzas.setdefault("default", {})
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stanzas.setdefault(stripped[1:-1], {})
            continue
        while line.endswith("\\") and i < len(lines):
            line = line[:-1] + "\n" + lines[i]
            i += 1
        key, sep, value = line.partition("=")
        if not sep:
            raise SplError(f"{name}: not 'key = value': {line!r}")
        current[key.strip()] = value.strip()
    if not stanzas["default"]:
        del stanzas["default"]
    return stanzas


def read_conf(path: Path) -> dict[str, dict[str, str]]:
    """A missing file is an empty conf (an app need not ship every file)."""
    if not path.is_file():
        return {}
    return parse_conf(path.read_text(encoding="utf-8"), path.name)


def conf_bool(value: str | None, default: bool) -> bool:
    """Splunk's boolean values in confs and command options: 1/0, true/false, t/f, yes/no."""
    if value is None:
        return default
    text = value.strip().lower()
    if text in ("1", "true", "t", "yes", "y"):
        return True
    if text in ("0", "false", "f", "no", "n"):
        return False
    raise SplError(f"invalid boolean value {value!r}")
