"""Every key of every conf the app ships in package/default is defined by Splunk's spec for it.

Specs are Splunk 10.4.2's, vendored in tests/data/splunk-10.4; ES keys of savedsearches.conf
(`action.correlationsearch.*`, `action.notable.*`, `action.risk.*`) are checked by name against
contentctl's detection template (tests/data/contentctl). The shipped confs are read at test time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lint.conf_specs import (
    ConfError,
    Spec,
    check_conf_file,
    check_settings,
    read_conf,
    read_key_list,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "package" / "default"
SPECS = ROOT / "tests" / "data" / "splunk-10.4"
ES_KEYS = ROOT / "tests" / "data" / "contentctl" / "savedsearches_detections_es_keys.txt"
# ES keys beyond contentctl's template, each with the ES documentation that defines it.
ES_DOCUMENTED = ROOT / "tests" / "data" / "contentctl" / "es_documented_keys.txt"


def spec(name: str) -> Spec:
    return Spec.read(SPECS / f"{name}.spec")


def conf(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def violations(tmp_path: Path, name: str, text: str) -> list[tuple[str, str]]:
    """(stanza, key) of each key a literal conf has that its vendored spec does not define."""
    found = check_conf_file(conf(tmp_path, name, text), SPECS, read_key_list(ES_KEYS))
    return [(v.stanza, v.key) for v in found]


# ------------------------------------------------------------------------------ the shipped confs


def test_every_shipped_conf_key_is_defined_by_its_spec() -> None:
    paths = sorted(DEFAULT.glob("*.conf"))
    assert paths, f"no conf in {DEFAULT}"
    es_keys = read_key_list(ES_KEYS) + read_key_list(ES_DOCUMENTED)
    found = [v for path in paths for v in check_conf_file(path, SPECS, es_keys)]
    assert not found, "keys no spec defines:\n" + "\n".join(str(v) for v in found)


def test_every_shipped_conf_has_a_vendored_spec() -> None:
    missing = [p.name for p in sorted(DEFAULT.glob("*.conf")) if not (SPECS / f"{p.name}.spec").is_file()]
    assert not missing, f"vendor the specs of {missing} into {SPECS} (see its README)"


# ---------------------------------------------------------------------------- the spec reader


def test_spec_keys_are_the_column_zero_key_lines(tmp_path: Path) -> None:
    text = (
        "# a comment = not a key\n"
        "[<stanza>]\n"
        "real_key = <string>\n"
        "* description = not a key\n"
        "  indented = not a key\n"
        "Example 1:  PROSE = not a key\n"
        "PATTERN-<class> = <string>\n"
    )
    read = Spec.read(conf(tmp_path, "x.conf.spec", text))
    assert read.stanza_keys == {"<stanza>": ["real_key", "PATTERN-<class>"]}


def test_a_spec_without_keys_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfError, match="no `key = <value>` line"):
        Spec.read(conf(tmp_path, "x.conf.spec", "# only prose\n"))


def test_placeholders_in_spec_keys_are_wildcards() -> None:
    props = spec("props.conf")
    assert props.defines("mysourcetype", "EVAL-dest")
    assert props.defines("mysourcetype", "FIELDALIAS-src")
    assert not props.defines("mysourcetype", "EVALX-dest")


def test_stanza_specific_keys_apply_only_in_their_stanza() -> None:
    app = spec("app.conf")
    assert app.defines("ui", "label")
    assert not app.defines("launcher", "label")


def test_the_most_literal_spec_stanza_wins() -> None:
    transforms = spec("transforms.conf")
    assert transforms.stanza_patterns("statsd-dims:x") == ["statsd-dims:<unique_transforms_stanza_name>"]
    assert transforms.stanza_patterns("my_lookup") == ["<unique_transform_stanza_name>"]


def test_a_stanza_the_spec_does_not_document_is_caught(tmp_path: Path) -> None:
    assert violations(tmp_path, "app.conf", "[launcher]\nversion = 1\n\n[bogus]\nversion = 1\n") == [
        ("bogus", "version")
    ]


# ---------------------------------------------------------------------- made-up keys, per conf


REAL_AND_MADE_UP = [
    ("macros.conf", "[m(1)]\nargs = a\ndefinition = $a$\ndescription = d\niseval = 0\n", "definitions"),
    ("props.conf", "[st]\nEVAL-a = b\nFIELDALIAS-c = d AS e\nTIME_PREFIX = x\nKV_MODE = json\n", "EVALS-a"),
    ("collections.conf", '[c]\nfield.a = string\naccelerated_fields.b = {"a": 1}\n', "fields.a"),
    (
        "transforms.conf",
        "[t]\nfilename = a.csv\nfields_list = a\ncase_sensitive_match = false\n",
        "file_name",
    ),
    ("commands.conf", "[c]\nfilename = c.py\nchunked = true\npython.required = 3.9\n", "chunk"),
    ("eventtypes.conf", "[e]\nsearch = a\ndescription = d\n", "query"),
    ("searchbnf.conf", "[c-command]\nsyntax = c\nexample1 = c\ncomment1 = x\nusage = public\n", "sample1"),
    (
        "savedsearches.conf",
        "[s]\nsearch = x\ndispatch.earliest_time = -1h\naction.notable = 1\n",
        "dispatch.earliest",
    ),
    ("app.conf", "[launcher]\nversion = 1\n\n[package]\nid = a\n", "identifier"),
]


@pytest.mark.parametrize(("name", "good", "made_up"), REAL_AND_MADE_UP)
def test_spec_defines_the_keys_splunk_documents(tmp_path: Path, name: str, good: str, made_up: str) -> None:
    assert violations(tmp_path, name, good) == []


@pytest.mark.parametrize(("name", "good", "made_up"), REAL_AND_MADE_UP)
def test_a_made_up_key_is_caught(tmp_path: Path, name: str, good: str, made_up: str) -> None:
    stanza = read_conf(conf(tmp_path, name, good))[-1].stanza
    assert violations(tmp_path, name, good + f"{made_up} = 1\n") == [(stanza, made_up)]


def test_tags_take_any_tag_name_in_a_field_value_stanza(tmp_path: Path) -> None:
    assert violations(tmp_path, "tags.conf", "[eventtype=e]\nnetwork = enabled\nmy_tag = enabled\n") == []


def test_tags_in_a_stanza_that_is_not_field_value_are_caught(tmp_path: Path) -> None:
    assert violations(tmp_path, "tags.conf", "[eventtype]\nnetwork = enabled\n") == [("eventtype", "network")]


def test_a_conf_without_a_vendored_spec_is_caught(tmp_path: Path) -> None:
    found = check_conf_file(conf(tmp_path, "nosuch.conf", "[s]\nkey = 1\n"), SPECS, read_key_list(ES_KEYS))
    assert [(v.key, v.reason) for v in found] == [("key", "no nosuch.conf.spec in the vendored Splunk specs")]


# ----------------------------------------------------------------------------------- ES keys


def test_es_keys_contentctl_writes_are_accepted(tmp_path: Path) -> None:
    text = (
        "[s]\naction.correlationsearch.enabled = 1\naction.notable = 1\n"
        "action.notable.param.rule_title = t\naction.risk.param._risk = []\n"
    )
    assert violations(tmp_path, "savedsearches.conf", text) == []


def test_a_made_up_es_key_is_caught_though_the_core_spec_has_a_wildcard_for_it(tmp_path: Path) -> None:
    # savedsearches.conf.spec's action.<action_name>.<parameter> would match it: ES keys go by name.
    assert spec("savedsearches.conf").defines("s", "action.notable.param.bogus")
    text = "[s]\naction.notable.param.bogus = 1\naction.risk.param.bogus = 1\n"
    assert violations(tmp_path, "savedsearches.conf", text) == [
        ("s", "action.notable.param.bogus"),
        ("s", "action.risk.param.bogus"),
    ]


def test_placeholders_in_the_es_key_list_are_wildcards(tmp_path: Path) -> None:
    settings = read_conf(conf(tmp_path, "savedsearches.conf", "[s]\naction.notable.param.extra_x = 1\n"))
    assert check_settings("savedsearches.conf", settings, None, ["action.notable.param.extra_<name>"]) == []
    assert check_settings("savedsearches.conf", settings, None, ["action.notable.param.other_<name>"])


def test_the_es_key_list_holds_only_es_keys() -> None:
    keys = read_key_list(ES_KEYS)
    assert "action.correlationsearch.annotations" in keys
    assert all(k.startswith(("action.correlationsearch", "action.notable", "action.risk")) for k in keys)


def test_every_es_key_beyond_contentctl_cites_its_documentation() -> None:
    lines = ES_DOCUMENTED.read_text(encoding="utf-8").splitlines()
    keys = read_key_list(ES_DOCUMENTED)
    assert keys and not set(keys) & set(read_key_list(ES_KEYS))
    for key in keys:
        above = lines[: lines.index(key)]
        assert any(line.startswith("# https://docs.splunk.com/") for line in above[-4:]), key
