"""pytest-splunk-addon 6.4 (in .venv-psa) over the app's confs and samples/, offline: its test
generation (what a user with a live Splunk runs) and its own judgements that need no Splunk."""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path

import pytest

from tests.splunk.test_knowledge_objects import read_conf

from .support import DEFAULT, PSA_PYTHON, ROOT, SAMPLES, mappings, psa_package, sample_files

APP = ROOT / "package"  # what the build copies: default/ and lookups/ (tests/splunk checks the copy)


def _run(args: list[str], cwd: Path) -> str:
    psa_package()  # a clear message when .venv-psa is missing
    done = subprocess.run(
        [str(PSA_PYTHON), *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@cache
def generated(tmp: str) -> list[str]:
    """The ids of the tests pytest-splunk-addon generates (collected, not run: they need Splunk).
    It runs in a scratch folder: it writes a log, a lock and its tokenized events there."""
    out = _run(
        [
            "-m",
            "pytest",
            "-p",
            "pytest_splunk_addon",
            str(ROOT / "tools" / "psa"),
            "--collect-only",
            "-q",
            "-o",
            "addopts=",
            "-p",
            "no:cacheprovider",
            f"--rootdir={tmp}",
            f"--splunk-app={APP}",
            f"--splunk-data-generator={ROOT}",
            "--splunk-type=external",
        ],
        Path(tmp),
    )
    return [line.split("::", 2)[2] for line in out.splitlines() if line.count("::") >= 2]


@pytest.fixture(scope="module")
def ids(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return generated(str(tmp_path_factory.mktemp("psa")))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("psa-report")
    return json.loads(_run([str(ROOT / "tools" / "psa" / "offline_report.py"), str(APP)], tmp))  # type: ignore[no-any-return]


def test_generation_yields_tests(ids: list[str]) -> None:
    assert len(ids) > 300


def test_a_field_test_for_every_alias_and_eval(ids: list[str]) -> None:
    props = read_conf(DEFAULT / "props.conf")
    for sourcetype, stanza in props.items():
        fields = {k[len("EVAL-") :] for k in stanza if k.startswith("EVAL-")}
        fields |= {v.partition(" AS ")[2].strip() for k, v in stanza.items() if k.startswith("FIELDALIAS-")}
        for name in fields:
            assert f"test_props_fields[{sourcetype}::field::{name}]" in ids, (sourcetype, name)


def test_cim_required_field_tests_for_every_eventtype(ids: list[str]) -> None:
    for mapping in mappings().values():
        for item in mapping.cim:
            data_set = item.data_set.split(".")[1]
            assert any(i.startswith(f'test_cim_required_fields[eventtype="{item.name}"::') for i in ids), (
                item.name
            )
            assert f'test_cim_required_fields[eventtype="{item.name}"::{data_set}]' in ids


def test_a_tag_and_eventtype_test_for_every_eventtype(ids: list[str]) -> None:
    for name in read_conf(DEFAULT / "eventtypes.conf"):
        assert f"test_eventtype[eventtype::{name}]" in ids
        for tag in read_conf(DEFAULT / "tags.conf")[f"eventtype={name}"]:
            assert f'test_tags[eventtype="{name}"::tag::{tag}]' in ids


def test_index_time_tests_from_every_sample_line(ids: list[str]) -> None:
    for name, sourcetype in sample_files().items():
        lines = [x for x in (SAMPLES / name).read_text(encoding="utf-8").splitlines() if x.strip()]
        assert f"test_indextime_line_breaker[{sourcetype}::{name}]" in ids
        for number in range(1, len(lines) + 1):
            assert f"test_indextime_time[{sourcetype}::{name}_{number}]" in ids


def test_psa_maps_each_eventtype_to_its_data_set(report: dict[str, object]) -> None:
    mapped = report["mapped"]
    assert isinstance(mapped, dict)
    for mapping in mappings().values():
        for item in mapping.cim:
            assert item.data_set.split(".")[1] in mapped[f'eventtype="{item.name}"'], item.name


def test_no_field_the_cim_forbids_in_props(report: dict[str, object]) -> None:
    assert report["not_allowed_in_props"] == []
