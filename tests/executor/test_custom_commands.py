"""Custom commands through protocol v2, and the stand-in splunkd's KV store endpoint."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.executor import SplError, Splunk

from .support import T0, json_event, make_app

COMMANDS = """
import json
import sys
from splunklib.searchcommands import (Configuration, EventingCommand, GeneratingCommand, Option,
                                      StreamingCommand, dispatch, validators)
"""

CHUNKS = (
    COMMANDS
    + '''

@Configuration()
class ChunksCommand(StreamingCommand):
    """Numbers the chunk each record came in, warns once, fails on demand."""
    fail = Option(require=False, default=False, validate=validators.Boolean())

    def stream(self, records):
        self.calls = getattr(self, "calls", 0) + 1
        if self.fail:
            self.write_error("chunks: asked to fail")
            sys.exit(1)
        if self.calls == 1:
            self.write_warning("chunks: first chunk")
        for record in records:
            record["chunk"] = str(self.calls)
            record["fields_seen"] = ",".join(sorted(k for k in record if k not in ("chunk",)))
            yield record
'''
)

REQUIRED = (
    COMMANDS
    + """

@Configuration(required_fields=["n"])
class OnlyN(StreamingCommand):
    def stream(self, records):
        for record in records:
            record["seen"] = ",".join(sorted(record))
            yield record
"""
)

GENERATE = (
    COMMANDS
    + """

@Configuration()
class Gen(GeneratingCommand):
    count = Option(require=True, validate=validators.Integer(0))

    def generate(self):
        for i in range(self.count):
            yield {"_time": 0, "i": str(i)}
"""
)

KVREAD = (
    COMMANDS
    + """

@Configuration()
class KvRead(GeneratingCommand):
    def generate(self):
        body = self.service.get("storage/collections/data/people", owner="nobody", app="test_app",
                                output_mode="json", sort="name", limit=2).body.read()
        for record in json.loads(body):
            yield {"name": record["name"], "app_dir": self.app_dir}

    app_dir = ""
"""
)

EVENTS = (
    COMMANDS
    + """

@Configuration()
class Collect(EventingCommand):
    def transform(self, records):
        self.seen = getattr(self, "seen", []) + [r["n"] for r in records]
        if self._finished:
            yield {"order": ",".join(self.seen)}
"""
)


@pytest.fixture
def sp(tmp_path: Path) -> Splunk:
    commands = {
        name: {"filename": f"{name}.py", "chunked": "true"}
        for name in ("chunks", "onlyn", "gen", "kvread", "collect")
    }
    commands["oldstyle"] = {"filename": "chunks.py"}
    bin_files = {
        "chunks.py": CHUNKS,
        "onlyn.py": REQUIRED,
        "gen.py": GENERATE,
        "kvread.py": KVREAD,
        "collect.py": EVENTS,
    }
    app = make_app(
        tmp_path, commands=commands, bin_files=bin_files, collections={"people": {"field.name": "string"}}
    )
    instance = Splunk(app, seed=0, chunk_size=3)
    instance.add_events([json_event(T0 + i, n=str(i)) for i in range(7)])
    yield instance
    instance.close()


def run(sp: Splunk, spl: str) -> Any:
    return sp.search(spl, now=T0 + 600)


def test_streaming_command_gets_records_in_chunks_in_pipeline_order(sp: Splunk) -> None:
    rows = run(sp, "index=main | chunks | table n chunk").rows
    assert [(r["n"], r["chunk"]) for r in rows] == [
        ("6", "1"),
        ("5", "1"),
        ("4", "1"),
        ("3", "2"),
        ("2", "2"),
        ("1", "2"),
        ("0", "3"),
    ]


def test_command_warnings_reach_the_search_messages(sp: Splunk) -> None:
    assert "chunks: first chunk" in run(sp, "index=main | chunks").texts("WARN")


def test_command_error_exit_fails_the_search_with_its_message(sp: Splunk) -> None:
    with pytest.raises(SplError, match="chunks: asked to fail"):
        run(sp, "index=main | chunks fail=true")


def test_bad_option_is_splunklibs_error(sp: Splunk) -> None:
    with pytest.raises(SplError, match="Unrecognized option: nope=1"):
        run(sp, "index=main | chunks nope=1")


def test_required_fields_limit_what_the_command_gets(sp: Splunk) -> None:
    assert {r["seen"] for r in run(sp, "index=main | onlyn").rows} == {"n"}


def test_without_required_fields_the_command_gets_every_field(sp: Splunk) -> None:
    seen = run(sp, "index=main | chunks").rows[0]["fields_seen"].split(",")
    assert {"_raw", "_time", "n", "sourcetype"} <= set(seen)


def test_generating_command_is_fed_until_it_finishes(sp: Splunk) -> None:
    sp.limits = type(sp.limits)(**{**sp.limits.__dict__, "maxresultrows": 4})
    assert [r["i"] for r in run(sp, "| gen count=10").rows] == [str(i) for i in range(10)]


def test_generating_command_later_in_a_search_is_an_error(sp: Splunk) -> None:
    with pytest.raises(SplError, match="generating command must be the first"):
        run(sp, "index=main | gen count=1")


def test_streaming_command_first_is_an_error(sp: Splunk) -> None:
    with pytest.raises(SplError, match="must not be the first"):
        run(sp, "| chunks")


def test_eventing_command_sees_every_chunk_and_flushes_on_the_last(sp: Splunk) -> None:
    assert run(sp, "index=main | collect").rows == [{"order": "6,5,4,3,2,1,0"}]


def test_command_reads_the_kv_store_through_splunkd_and_gets_the_instance_app_dir(sp: Splunk) -> None:
    sp.kvstore.batch_save("people", [{"name": n} for n in ("c", "a", "b")])
    rows = run(sp, "| kvread").rows
    assert rows == [{"name": "a", "app_dir": str(sp.app_dir)}, {"name": "b", "app_dir": str(sp.app_dir)}]


def test_protocol_v1_commands_are_refused(sp: Splunk) -> None:
    from tests.executor import UnsupportedSpl

    with pytest.raises(UnsupportedSpl, match="protocol v1"):
        run(sp, "index=main | oldstyle")


# ------------------------------------------------------------------ the stand-in splunkd


def rest(sp: Splunk, path: str, method: str = "GET", body: Any = None, auth: bool = True) -> tuple[int, Any]:
    splunkd = sp.splunkd()
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{splunkd.uri}/servicesNS/nobody/test_app/storage/collections/data/{path}", data=data, method=method
    )
    if auth:
        request.add_header("Authorization", f"Splunk {splunkd.session_key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_rest_sort_skip_limit_fields_and_query(sp: Splunk) -> None:
    sp.kvstore.batch_save("people", [{"name": n, "_key": n} for n in ("d", "b", "a", "c")])
    status, records = rest(sp, 'people?sort=name:-1&skip=1&limit=2&fields=name&query={"name":{"$ne":"c"}}')
    assert status == 200 and records == [{"name": "b", "_key": "b"}, {"name": "a", "_key": "a"}]


def test_rest_query_is_capped_at_max_rows_per_query(sp: Splunk) -> None:
    sp.kvstore.max_rows_per_query = 2
    sp.kvstore.batch_save("people", [{"name": str(i)} for i in range(5)])
    assert len(rest(sp, "people?limit=0")[1]) == 2


def test_rest_batch_save_inserts_and_replaces_by_key(sp: Splunk) -> None:
    rest(sp, "people/batch_save", "POST", [{"_key": "k", "name": "one"}])
    status, keys = rest(sp, "people/batch_save", "POST", [{"_key": "k", "name": "two"}, {"name": "three"}])
    assert (
        status == 200
        and keys[0] == "k"
        and sorted(r["name"] for r in sp.kvstore.all_records("people")) == ["three", "two"]
    )


def test_rest_delete_one_record(sp: Splunk) -> None:
    sp.kvstore.save("people", {"_key": "k", "name": "x"})
    assert rest(sp, "people/k", "DELETE")[0] == 200 and sp.kvstore.all_records("people") == []


def test_rest_undeclared_collection_is_404(sp: Splunk) -> None:
    assert rest(sp, "nobody_declared")[0] == 404


def test_rest_without_the_session_key_is_401(sp: Splunk) -> None:
    assert rest(sp, "people", auth=False)[0] == 401
