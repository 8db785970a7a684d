"""The dashboards' searches name only what the app defines, read without running them.

Every macro is in macros.conf (with its argument count), every lookup named by `lookup`,
`inputlookup` or `outputlookup` is in transforms.conf (and its collection in collections.conf),
every command is a Splunk command or in commands.conf, and every field a search reads is a field
of the app (contract sections 1 and 4, the lookup columns), a Splunk default field, or one the
search itself creates. Execution over the replay (test_executed.py) proves the first three again
and what each search returns; the field check is what it cannot prove (a misspelled field runs
without error and reads nothing). A check of each kind refuses a broken search (the negative
tests), so none of them passes by reading nothing.
"""

from __future__ import annotations

import re

import pytest

from mobile_ingress.engine.events import EVENT_FIELDS
from mobile_ingress.engine.findings import FIELDS as FINDING_FIELDS
from mobile_ingress.engine.lookups import COLUMNS
from mobile_ingress.normalize.attribution import COLUMNS as ATTRIBUTION_COLUMNS

from ..splunk.test_knowledge_objects import MACRO, expand, read_conf
from . import spl
from .recording import data_source_search, token_values
from .support import DEFAULT, NAMES, definition

# Splunk's own search commands the dashboards use (Search Reference).
SPLUNK_COMMANDS = frozenset(
    [
        "search",
        "where",
        "eval",
        "lookup",
        "inputlookup",
        "outputlookup",
        "stats",
        "eventstats",
        "tstats",
        "timechart",
        "table",
        "fields",
        "rename",
        "sort",
        "dedup",
        "fillnull",
        "append",
        "head",
        "rex",
        "mvexpand",
        "transpose",
        "addinfo",
        "rest",
        "makeresults",
    ]
)
SPLUNK_FIELDS = frozenset(
    {"_time", "_raw", "_indextime", "index", "sourcetype", "source", "host", "count", "tag", "eventtype"}
)
# Fields of the REST endpoints the dashboards read (/services/apps/local: version;
# configs/conf-macros: title, definition).
REST_FIELDS = frozenset({"title", "version", "definition"})
APP_FIELDS = (
    frozenset(FINDING_FIELDS)
    | frozenset(EVENT_FIELDS)
    | {"src", "dvc", "suppressed_by", "disabled"}
    | {column for columns in COLUMNS.values() for column in columns}
    | frozenset(ATTRIBUTION_COLUMNS)
)
KNOWN_FIELDS = APP_FIELDS | SPLUNK_FIELDS | REST_FIELDS
LOOKUP_COMMAND = re.compile(
    r"(?:^|\|)\s*(?:lookup|inputlookup|outputlookup)\s+(?:\w+=\S+\s+)*([A-Za-z_][\w]*)"
)

MACROS = read_conf(DEFAULT / "macros.conf")
TRANSFORMS = read_conf(DEFAULT / "transforms.conf")
COLLECTIONS = read_conf(DEFAULT / "collections.conf")
COMMANDS_CONF = read_conf(DEFAULT / "commands.conf")


def all_searches(spl_text: str) -> list[str]:
    return [spl_text, *spl.subsearches(spl_text)]


def macro_problems(query: str) -> list[str]:
    try:
        expand(query, MACROS)
    except AssertionError as exc:
        return [str(exc)]
    return []


def lookup_problems(query: str) -> list[str]:
    problems = []
    for text in all_searches(expand(query, MACROS)):
        for name in LOOKUP_COMMAND.findall(text):
            stanza = TRANSFORMS.get(name)
            if stanza is None:
                problems.append(f"lookup {name} is not in transforms.conf")
            elif "collection" in stanza and stanza["collection"] not in COLLECTIONS:
                problems.append(
                    f"lookup {name}: collection {stanza['collection']} is not in collections.conf"
                )
    return problems


def command_problems(query: str) -> list[str]:
    problems = []
    for text in all_searches(expand(query, MACROS)):
        for command, _ in spl.stages(text):
            if command not in SPLUNK_COMMANDS and command not in COMMANDS_CONF:
                problems.append(f"command {command} is neither a Splunk command nor in commands.conf")
    return problems


def field_problems(query: str) -> list[str]:
    # Fields a macro reads are checked with the macro's own searches; the fields it defines count
    # as made by the search. A macro's name is not a field.
    defined: set[str] = set()
    for text in all_searches(expand(query, MACROS)):
        for command, args in spl.stages(text):
            defined |= set(spl.defined_by(command, args))
    texts = all_searches(MACRO.sub(" 0 ", query))
    read: set[str] = set()
    for text in texts:
        for command, args in spl.stages(text):
            read |= spl.read_fields(
                command, re.sub(r"\[[^\]]*\]", " ", args) if command == "search" else args
            )
    return sorted(
        f"field {name} is neither the app's, Splunk's nor made by the search"
        for name in read - KNOWN_FIELDS - defined
    )


CASES = [(name, ds_id) for name in NAMES for ds_id in definition(name)["dataSources"]]


def query_of(name: str, ds_id: str) -> str:
    """A data source's whole search (a chain after its base) with its tokens filled from the inputs'
    defaults, so that the pipe of a `$token|s$` is not read as a pipeline stage."""
    defn = definition(name)
    return data_source_search(defn, ds_id, token_values(defn, {})).spl


@pytest.mark.parametrize(("name", "ds_id"), CASES)
def test_every_macro_a_search_names_exists(name: str, ds_id: str) -> None:
    assert macro_problems(query_of(name, ds_id)) == []


@pytest.mark.parametrize(("name", "ds_id"), CASES)
def test_every_lookup_a_search_names_is_defined(name: str, ds_id: str) -> None:
    assert lookup_problems(query_of(name, ds_id)) == []


@pytest.mark.parametrize(("name", "ds_id"), CASES)
def test_every_command_a_search_runs_exists(name: str, ds_id: str) -> None:
    assert command_problems(query_of(name, ds_id)) == []


@pytest.mark.parametrize(("name", "ds_id"), CASES)
def test_every_field_a_search_reads_is_defined(name: str, ds_id: str) -> None:
    assert field_problems(query_of(name, ds_id)) == []


def test_an_unknown_macro_is_refused() -> None:
    assert macro_problems("`mobile_ingress_no_such_macro` | table _time") != []


def test_an_unknown_lookup_is_refused() -> None:
    assert lookup_problems("| inputlookup mobile_ingress_nothing | table a") == [
        "lookup mobile_ingress_nothing is not in transforms.conf"
    ]


def test_an_unknown_command_is_refused() -> None:
    assert command_problems("| inputlookup mobile_ingress_findings | frobnicate | table a") == [
        "command frobnicate is neither a Splunk command nor in commands.conf"
    ]


def test_an_unknown_field_is_refused() -> None:
    query = "| inputlookup mobile_ingress_findings | stats count BY risk_scor | table risk_scor count"
    assert field_problems(query) == ["field risk_scor is neither the app's, Splunk's nor made by the search"]


def test_a_field_made_by_the_search_is_accepted() -> None:
    query = (
        "| inputlookup mobile_ingress_findings | eval high=if(risk_score>50, 1, 0)"
        " | stats sum(high) AS n BY app_id"
    )
    assert field_problems(query) == []
