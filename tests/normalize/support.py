"""Shared by the normalization tests: the mappings, the samples and their sourcetypes."""

from __future__ import annotations

import configparser
import json
from functools import cache
from pathlib import Path

from mobile_ingress.normalize import SourcetypeMapping, load_mappings

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
PSA_CONF = ROOT / "pytest-splunk-addon-data.conf"
PSA_VENV = ROOT / ".venv-psa"
PSA_PYTHON = PSA_VENV / "bin" / "python"
DEFAULT = ROOT / "package" / "default"


@cache
def mappings() -> dict[str, SourcetypeMapping]:
    return load_mappings()


@cache
def sample_files() -> dict[str, str]:
    """Sample file name -> sourcetype, as pytest-splunk-addon-data.conf says."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(PSA_CONF, encoding="utf-8")
    return {name: parser[name]["sourcetype"] for name in parser.sections()}


def sample_lines(sourcetype: str) -> list[str]:
    lines = []
    for name, st in sorted(sample_files().items()):
        if st == sourcetype:
            lines += [
                line for line in (SAMPLES / name).read_text(encoding="utf-8").splitlines() if line.strip()
            ]
    return lines


def sample_records(sourcetype: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in sample_lines(sourcetype)]


def sample_path(sourcetype: str) -> Path:
    names = [name for name, st in sample_files().items() if st == sourcetype]
    assert len(names) == 1, sourcetype
    return SAMPLES / names[0]


def psa_package() -> Path:
    """pytest-splunk-addon's installed package folder in .venv-psa (made by `make setup`)."""
    found = sorted(PSA_VENV.glob("lib/python3*/site-packages/pytest_splunk_addon"))
    assert found, "pytest-splunk-addon is missing: run `make setup` (it builds .venv-psa)"
    return found[0]


def flatten(record: object, prefix: str = "") -> set[str]:
    """Every field name Splunk's KV_MODE=json gives a JSON event: `a.b`, `list{}`, `list{}.c`."""
    names: set[str] = set()
    if isinstance(record, dict):
        for key, value in record.items():
            names |= flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(record, list):
        for item in record:
            names |= flatten(item, prefix + "{}")
    elif prefix:
        names.add(prefix)
    return names
