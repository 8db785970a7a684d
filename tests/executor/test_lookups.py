"""lookup, inputlookup and outputlookup over CSV files and KV store collections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.executor import SplError, Splunk

from .support import T0, make_app

TRANSFORMS = {
    "roles": {"filename": "roles.csv"},
    "roles_ci": {"filename": "roles.csv", "case_sensitive_match": "false"},
    "roles_one": {"filename": "roles.csv", "max_matches": "1"},
    "people_kv": {
        "external_type": "kvstore",
        "collection": "people",
        "fields_list": "_key, name, team, score",
    },
    "out": {"filename": "out.csv"},
}
COLLECTIONS = {"people": {"field.name": "string", "field.team": "string", "field.score": "number"}}
ROLES = [
    {"app": "chrome", "role": "browser", "note": ""},
    {"app": "chrome", "role": "download", "note": "x"},
    {"app": "Files", "role": "sync", "note": ""},
]


@pytest.fixture
def sp(tmp_path: Path) -> Splunk:
    app = make_app(tmp_path, transforms=TRANSFORMS, collections=COLLECTIONS, lookups={"roles.csv": ROLES})
    instance = Splunk(app, seed=0)
    yield instance
    instance.close()


def run(sp: Splunk, spl: str) -> list[dict[str, Any]]:
    return sp.search(spl, now=T0).rows


def one(app: str, extra: str = "") -> str:
    return f'| makeresults | eval app="{app}"{extra}'


def test_lookup_output_gives_multivalue_for_several_matches(sp: Splunk) -> None:
    assert run(sp, one("chrome") + " | lookup roles app OUTPUT role | table role") == [
        {"role": ["browser", "download"]}
    ]


def test_lookup_max_matches(sp: Splunk) -> None:
    assert run(sp, one("chrome") + " | lookup roles_one app OUTPUT role | table role") == [
        {"role": "browser"}
    ]


def test_lookup_is_case_sensitive_by_default(sp: Splunk) -> None:
    assert run(sp, one("files") + " | lookup roles app OUTPUT role | table role") == [{}]


def test_lookup_case_insensitive_definition(sp: Splunk) -> None:
    assert run(sp, one("files") + " | lookup roles_ci app OUTPUT role | table role") == [{"role": "sync"}]


def test_lookup_output_without_match_removes_the_field(sp: Splunk) -> None:
    assert run(sp, one("none", ', role="kept"') + " | lookup roles app OUTPUT role | table role") == [{}]


def test_lookup_outputnew_keeps_existing_fields(sp: Splunk) -> None:
    rows = run(
        sp, one("chrome", ', role="kept"') + " | lookup roles app OUTPUTNEW role note | table role note"
    )
    assert rows == [{"role": "kept", "note": "x"}]


def test_lookup_as_on_both_sides(sp: Splunk) -> None:
    rows = run(sp, '| makeresults | eval a="Files" | lookup roles app AS a OUTPUT role AS r | table r')
    assert rows == [{"r": "sync"}]


def test_lookup_without_output_clause_outputs_every_other_column(sp: Splunk) -> None:
    assert run(sp, one("Files") + " | lookup roles app | table role note") == [{"role": "sync"}]


def test_unknown_lookup_is_an_error(sp: Splunk) -> None:
    with pytest.raises(SplError, match="'nope' does not exist"):
        run(sp, one("x") + " | lookup nope app")


def test_inputlookup_csv_in_file_order_with_empty_cells_absent(sp: Splunk) -> None:
    result = sp.search("| inputlookup roles", now=T0)
    assert result.fields == ["app", "role", "note"] and result.rows[0] == {"app": "chrome", "role": "browser"}


def test_inputlookup_by_file_name_and_where(sp: Splunk) -> None:
    assert run(sp, '| inputlookup roles.csv where app="FILES"') == [{"app": "Files", "role": "sync"}]


def test_inputlookup_append(sp: Splunk) -> None:
    assert len(run(sp, "| makeresults | inputlookup append=true roles")) == 4


def test_inputlookup_without_append_later_in_a_search_is_an_error(sp: Splunk) -> None:
    with pytest.raises(SplError, match="first command"):
        run(sp, "| makeresults | inputlookup roles")


def test_inputlookup_of_a_collection_is_capped_at_max_rows_per_query(sp: Splunk) -> None:
    sp.kvstore.max_rows_per_query = 3
    sp.kvstore.batch_save("people", [{"name": f"p{i}"} for i in range(5)])
    assert len(run(sp, "| inputlookup people_kv")) == 3


def test_outputlookup_kv_replaces_the_collection_and_types_numbers(sp: Splunk) -> None:
    sp.kvstore.save("people", {"name": "old"})
    run(sp, '| makeresults | eval name="a", score="7", junk="x" | outputlookup people_kv')
    assert [
        {k: v for k, v in r.items() if k not in ("_key", "_user")} for r in sp.kvstore.all_records("people")
    ] == [{"name": "a", "score": 7}]


def test_outputlookup_kv_append_with_key_field_updates_by_key(sp: Splunk) -> None:
    run(sp, '| makeresults | eval name="a", team="t1" | outputlookup append=true key_field=name people_kv')
    run(sp, '| makeresults | eval name="a", team="t2" | outputlookup append=true key_field=name people_kv')
    assert [(r["_key"], r["team"]) for r in sp.kvstore.all_records("people")] == [("a", "t2")]


def test_outputlookup_kv_writes_multivalue_as_array(sp: Splunk) -> None:
    run(sp, '| makeresults | eval name="a", team=split("x,y", ",") | outputlookup people_kv')
    assert sp.kvstore.all_records("people")[0]["team"] == ["x", "y"]


def test_outputlookup_empty_results_empty_the_collection_by_default(sp: Splunk) -> None:
    sp.kvstore.save("people", {"name": "old"})
    run(sp, "| makeresults | where 1==2 | outputlookup people_kv")
    assert sp.kvstore.all_records("people") == []


def test_outputlookup_override_if_empty_false_keeps_the_collection(sp: Splunk) -> None:
    sp.kvstore.save("people", {"name": "old"})
    run(sp, "| makeresults | where 1==2 | outputlookup override_if_empty=false people_kv")
    assert len(sp.kvstore.all_records("people")) == 1


def test_outputlookup_passes_results_on(sp: Splunk) -> None:
    assert run(sp, '| makeresults | eval name="a" | outputlookup people_kv | table name') == [{"name": "a"}]


def test_outputlookup_csv_writes_columns_and_multivalue_lines(sp: Splunk) -> None:
    run(sp, '| makeresults | eval a="1", m=split("x,y", ",") | table a m | outputlookup out')
    assert (sp.lookups_dir / "out.csv").read_text() == 'a,m\n1,"x\ny"\n'


def test_outputlookup_csv_append_adds_rows(sp: Splunk) -> None:
    run(sp, '| makeresults | eval a="1" | table a | outputlookup out')
    run(sp, '| makeresults | eval a="2" | table a | outputlookup append=true out')
    assert [r["a"] for r in run(sp, "| inputlookup out")] == ["1", "2"]


def test_outputlookup_csv_empty_creates_a_zero_length_file(sp: Splunk) -> None:
    run(sp, '| makeresults | eval a="1" | table a | outputlookup out')
    run(sp, "| makeresults | where 1==2 | outputlookup out")
    assert (sp.lookups_dir / "out.csv").read_text() == ""


def test_outputlookup_csv_create_empty_false_deletes_the_file(sp: Splunk) -> None:
    run(sp, '| makeresults | eval a="1" | table a | outputlookup out')
    run(sp, "| makeresults | where 1==2 | outputlookup create_empty=false out")
    assert not (sp.lookups_dir / "out.csv").exists()


def test_key_field_on_a_csv_lookup_is_an_error(sp: Splunk) -> None:
    with pytest.raises(SplError, match="KV store"):
        run(sp, '| makeresults | eval a="1" | outputlookup key_field=a out')


def test_write_local_lookup_is_read_by_inputlookup(sp: Splunk) -> None:
    sp.write_local_lookup("local.csv", [{"k": "v"}])
    assert run(sp, "| inputlookup local.csv") == [{"k": "v"}]


def test_lookups_live_in_a_copy_of_the_app(sp: Splunk) -> None:
    run(sp, '| makeresults | eval a="1" | table a | outputlookup out')
    assert not (sp.source_app_dir / "lookups" / "out.csv").exists() and sp.app_dir != sp.source_app_dir
