"""tools/zeek_tsv_to_json.py: a Zeek TSV log to the JSON Zeek's own writer gives, on the real TSV
http.log of tests/data/real and on records built to each rule of the writers."""

from __future__ import annotations

import json

import pytest
import zeek_tsv_to_json as z  # tools/ (pytest's pythonpath)

from .support import ROOT

REAL_TSV = ROOT / "tests" / "data" / "real" / "zeek-docs" / "tls_decryption" / "http.log"
HEADER = [
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\tfiles",
    "#fields\tts\tfuid\ttx_hosts\tsource\tanalyzers\tfilename\tduration\tis_orig\tseen_bytes\tmd5",
    "#types\ttime\tstring\tset[addr]\tstring\tset[string]\tstring\tinterval\tbool\tcount\tstring",
]


def convert(*rows: str, timestamps: str = "epoch") -> list[dict[str, object]]:
    return list(z.convert([*HEADER, *rows], timestamps))


def test_the_real_tsv_http_log_becomes_zeeks_json() -> None:
    first = next(z.convert(REAL_TSV.read_text(encoding="utf-8").splitlines()))
    assert first == {
        "ts": 1646150638.735969,
        "uid": "CTy5Us4OUaTOcyrPvc",
        "id.orig_h": "192.168.20.12",
        "id.orig_p": 60679,
        "id.resp_h": "193.99.144.85",
        "id.resp_p": 443,
        "trans_depth": 1,
        "method": "GET",
        "host": "www.heise.de",
        "uri": "/assets/akwa/v24/js/akwa.js?.ltc.c61e84978682308f631c",
        "referrer": "https://www.heise.de/",
        "version": "1.1",
        "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:97.0) Gecko/20100101 Firefox/97.0",
        "request_body_len": 0,
        "response_body_len": 375340,
        "status_code": 200,
        "status_msg": "OK",
        "tags": [],
        "resp_fuids": ["FSJiWr34wfIujxxtm3"],
        "resp_mime_types": ["text/plain"],
    }


def test_types_become_numbers_booleans_and_arrays() -> None:
    (record,) = convert(
        "1596820191.969902\tFB1\t23.195.64.241,10.0.0.1\tHTTP\tPE,EXTRACT\tx.exe\t0.015499\tF\t179272\t-"
    )
    assert record == {
        "ts": 1596820191.969902,
        "fuid": "FB1",
        "tx_hosts": ["23.195.64.241", "10.0.0.1"],
        "source": "HTTP",
        "analyzers": ["PE", "EXTRACT"],
        "filename": "x.exe",
        "duration": 0.015499,
        "is_orig": False,
        "seen_bytes": 179272,
    }


def test_unset_is_left_out_and_empty_is_an_empty_array_or_text() -> None:
    (record,) = convert("1\tFB1\t(empty)\t-\t(empty)\t(empty)\t-\tT\t0\t-")
    assert record == {
        "ts": 1.0,
        "fuid": "FB1",
        "tx_hosts": [],
        "analyzers": [],
        "filename": "",
        "is_orig": True,
        "seen_bytes": 0,
    }


def test_the_writers_escapes_are_undone() -> None:
    (record,) = convert("1\tFB1\t(empty)\tHTTP\ta\\x2cb,c\tsetup\\x09v2.exe\t0.1\tF\t1\t\\x2d")
    assert (
        record["analyzers"] == ["a,b", "c"] and record["filename"] == "setup\tv2.exe" and record["md5"] == "-"
    )


def test_iso8601_timestamps_are_written_as_zeeks_ts_iso8601() -> None:
    (record,) = convert("1600820671.334435\tFB1\t-\t-\t-\t-\t-\tF\t1\t-", timestamps="iso8601")
    assert record["ts"] == "2020-09-23T00:24:31.334435Z"


def test_a_row_with_another_column_count_names_its_line() -> None:
    with pytest.raises(z.ZeekTsvError, match="line 8: 2 columns"):
        convert("1\tFB1")


def test_a_bad_bool_names_its_field() -> None:
    with pytest.raises(z.ZeekTsvError, match="field is_orig"):
        convert("1\tFB1\t-\t-\t-\t-\t-\tyes\t1\t-")


def test_the_command_writes_json_lines(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert z.main([str(REAL_TSV)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(json.loads(line)["uid"] == "CTy5Us4OUaTOcyrPvc" for line in lines)
