"""`ingresscorrelate` under broken input (issue 15), through the real protocol v2 byte stream:
an incomplete stream is an error, an unreachable KV store fails the search closed and leaves an
ERROR line where Data health looks, and a lookup row or header set aside is a search warning while
the search goes on."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from . import scp
from .test_kvstore import SESSION_KEY, StandIn

LOGGER = "ta_mobile_ingress.ingresscorrelate"
T0 = 1_800_000_000
CHAIN = [
    {"_time": T0 + 10, "activity": "file_create", "platform": "android", "device_id": "d1",
     "app_id": "com.example.game", "file_path": "/data/data/com.example.game/files/payload.apk",
     "event_id": "f1"},
    {"_time": T0, "activity": "retrieval", "platform": "android", "device_id": "d1",
     "app_id": "com.example.game", "dest": "cdn.attacker.example", "bytes_in": 200000,
     "url": "https://cdn.attacker.example/p/payload.apk", "event_id": "r1"},
]  # fmt: skip


@pytest.fixture
def command_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Path]]:
    """The command's log file under a SPLUNK_HOME of the test's own. Call it in the test, right
    before running the command: pytest hands its capture handler to a non-propagating logger when
    the test starts, and the command makes its file handler only for a logger without one."""
    home = tmp_path / "splunk_home"
    monkeypatch.setenv("SPLUNK_HOME", str(home))
    logger = logging.getLogger(LOGGER)

    def fresh() -> Path:
        logger.handlers.clear()
        return home / "var" / "log" / "splunk" / "ta_mobile_ingress_ingresscorrelate.log"

    yield fresh
    for handler in logger.handlers:
        handler.close()
    logger.handlers.clear()


def run_bytes(stream: bytes, app: Path, dispatch: Path) -> scp.Result:
    """The command on a byte stream as given (whole, cut short, or without its last chunk)."""
    module = scp.load_command_module()
    command = module.IngressCorrelateCommand()
    command.app_dir = str(app)
    out = io.BytesIO()
    code = None
    try:
        command.process(["ingresscorrelate.py"], io.BytesIO(stream), out)
    except SystemExit as exc:
        code = int(exc.code) if exc.code is not None else 0
    chunks = scp.parse_output(out.getvalue())
    messages = []
    for chunk in chunks:
        inspector = chunk.metadata.get("inspector")
        if isinstance(inspector, dict):
            messages.extend((str(kind), str(text)) for kind, text in inspector.get("messages", []))
    return scp.Result(chunks, code, messages)


def stream(dispatch: Path, *, finished: bool = True) -> bytes:
    return (
        scp.getinfo(["order=any"], str(dispatch))
        + scp.execute(CHAIN[:1], finished=False)
        + scp.execute(CHAIN[1:], finished=finished)
    )


def test_a_complete_stream_gives_its_finding(app: Path, tmp_path: Path) -> None:
    result = run_bytes(stream(tmp_path), app, tmp_path)
    assert result.exit_code is None and not result.texts("ERROR")
    assert [row["file_path"] for row in result.rows] == ["/data/data/com.example.game/files/payload.apk"]


def test_a_stream_cut_inside_its_last_chunk_is_an_error(
    app: Path, tmp_path: Path, command_log: Callable[[], Path]
) -> None:
    whole = stream(tmp_path)
    log = command_log()
    result = run_bytes(whole[:-25], app, tmp_path)
    assert result.exit_code == 1 and not result.rows
    errors = result.texts("ERROR")
    assert len(errors) == 1 and "event stream broke" in errors[0] and "stream ended after" in errors[0]
    assert " ERROR " in log.read_text() and "event stream broke" in log.read_text()


def test_a_stream_that_ends_before_finished_is_an_error(
    app: Path, tmp_path: Path, command_log: Callable[[], Path]
) -> None:
    log = command_log()
    result = run_bytes(stream(tmp_path, finished=False), app, tmp_path)
    assert result.exit_code == 1 and not result.rows
    errors = result.texts("ERROR")
    assert len(errors) == 1 and "ended before its last chunk" in errors[0]
    assert "ended before its last chunk" in log.read_text()


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    from tests.standin_http import serving

    server = StandIn()
    with serving(server.server):
        yield server


def test_an_unreachable_kv_store_fails_closed_with_an_error_line_in_the_log(
    app: Path, tmp_path: Path, command_log: Callable[[], Path], stand_in: StandIn
) -> None:
    stand_in.failing.add("mobile_ingress_allowed_destinations")
    log = command_log()
    result = scp.run([], [CHAIN], app, tmp_path, splunkd_uri=stand_in.uri, session_key=SESSION_KEY)
    assert result.exit_code == 1 and not result.rows
    assert any("failed closed" in text for text in result.texts("ERROR")), result.messages
    lines = [line for line in log.read_text().splitlines() if " ERROR " in line]
    assert len(lines) == 1
    assert "command=ingresscorrelate" in lines[0] and "mobile_ingress_allowed_destinations" in lines[0]


def test_a_reachable_kv_store_leaves_no_error_line(
    app: Path, tmp_path: Path, command_log: Callable[[], Path], stand_in: StandIn
) -> None:
    log = command_log()
    result = scp.run([], [CHAIN], app, tmp_path, splunkd_uri=stand_in.uri, session_key=SESSION_KEY)
    assert result.exit_code is None and len(result.rows) == 1
    assert not log.exists() or " ERROR " not in log.read_text()


def test_a_local_csv_without_its_header_is_a_search_warning_and_the_search_goes_on(
    app: Path, tmp_path: Path
) -> None:
    (app / "lookups" / "mobile_ingress_allowed_destinations_local.csv").write_text(
        "cdn.attacker.example,*,header line lost\n*.example.net,*,second row\n"
    )
    result = scp.run([], [CHAIN], app, tmp_path)
    assert result.exit_code is None
    assert len(result.rows) == 1  # the file set aside: its rows never allowlisted the attacker
    warnings = [t for t in result.texts("WARN") if "lookup:" in t]
    assert len(warnings) == 1 and "allowed_destinations_local.csv" in warnings[0]
    assert "lacks column(s) destination, app_id" in warnings[0]


def test_a_kv_record_missing_a_column_is_one_warning_never_a_failed_search(
    app: Path, tmp_path: Path, stand_in: StandIn
) -> None:
    stand_in.collections["mobile_ingress_managed_apps"] = [
        {"_key": "a", "platform": "android", "managed": "true", "source": "intune"},  # no app_id
        {"_key": "b", "platform": "android", "app_id": "com.example.game", "managed": "true"},  # no roles
    ]
    result = scp.run([], [CHAIN], app, tmp_path, splunkd_uri=stand_in.uri, session_key=SESSION_KEY)
    assert result.exit_code is None and len(result.rows) == 1
    assert scp.mv(result.rows[0], "context") == ["unapproved_role"]
    warnings = [t for t in result.texts("WARN") if "lookup:" in t]
    assert len(warnings) == 1 and "mobile_ingress_managed_apps:a" in warnings[0] and "app_id" in warnings[0]
