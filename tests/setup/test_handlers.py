"""The setup page's REST handlers as splunkd runs them: the UCC-generated handler file of each tab
(`output/TA-mobile-ingress/bin/TA_mobile_ingress_rh_<tab>.py`, built by `make build`, importing our
class through `restHandlerModule`/`restHandlerClass`) run as `__main__` in its own interpreter,
from an installed app's folder (`.../etc/apps/TA-mobile-ingress`), with the app's lib/.

Two stand-ins: `fake_splunk/splunk/admin.py` for splunkd's private admin module (it hands the
handler the request and words an uncaught exception the way splunkd does), and standin.py for
splunkd's REST API. A refusal is checked as the user sees it: the message UCC's page extracts from
splunkd's error text with its own pattern (`tryTrimErrorMessage` in the UCC UI).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .detection import chain, findings, search_lookups
from .standin import APP, SESSION_KEY, StandIn

ROOT = Path(__file__).resolve().parents[2]
BUILT = ROOT / "output" / APP
FAKE_SPLUNK = Path(__file__).resolve().parent / "fake_splunk"
# UCC's UI: the message between `-- ` and `". See splunkd.log...` of splunkd's error text.
UCC_MESSAGE = re.compile(
    r'.+"REST Error \[[\d]+\]:\s+.+\s+--\s+([\s\S]*)"\.\s*See splunkd\.log(/python.log)? for more details\.'
)
# As `python <handler>` would: the handler's folder first on sys.path; no site-packages (-S), so
# splunklib, solnlib and splunktaucclib come from the app's lib/.
RUN = (
    "import os, runpy, sys; sys.path[:0] = [os.path.dirname(sys.argv[2]), sys.argv[1]]; "
    "runpy.run_path(sys.argv[2], run_name='__main__')"
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built app copied where splunkd keeps apps (UCC's handlers find their app by that path)."""
    if not (BUILT / "bin" / "TA_mobile_ingress_rh_allowed_destinations.py").is_file():
        pytest.fail(f"{BUILT} has no setup page handlers: run `make build` first")
    for source in [ROOT / "package" / "bin" / "mobile_ingress_setup_rh.py",
                   *(ROOT / "package" / "bin" / "mobile_ingress_splunk").glob("setup_*.py")]:  # fmt: skip
        built = BUILT / "bin" / source.relative_to(ROOT / "package" / "bin")
        if not built.is_file() or built.read_bytes() != source.read_bytes():
            pytest.fail(f"{built} is not the current {source.name}: run `make build` first")
    app = tmp_path_factory.mktemp("splunk") / "etc" / "apps" / APP
    shutil.copytree(BUILT, app, ignore=shutil.ignore_patterns("__pycache__"))
    return app


def call(installed: Path, stand_in: StandIn, tab: str, action: str, id: str | None = None,
         **data: str) -> dict[str, Any]:  # fmt: skip
    request = {"action": action, "id": id, "data": data, "session_key": SESSION_KEY}
    env = {**os.environ, "SETUP_REQUEST": json.dumps(request), "SPLUNKD_URI": stand_in.uri,
           "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
    handler = installed / "bin" / f"TA_mobile_ingress_rh_{tab}.py"
    done = subprocess.run(
        [sys.executable, "-S", "-c", RUN, str(FAKE_SPLUNK), str(handler)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def user_message(answer: dict[str, Any]) -> str:
    assert answer["status"] != 200, answer
    match = UCC_MESSAGE.match(answer["text"])
    assert match, answer["text"]
    return match.group(1)


def test_list_shows_the_shipped_defaults(installed: Path, stand_in: StandIn) -> None:
    answer = call(installed, stand_in, "allowed_destinations", "list")
    entry = answer["entries"]["shipped-play.googleapis.com"]
    assert entry["content"] == {
        "destination": "play.googleapis.com",
        "app_id": "*",
        "disabled": "false",
        "comment": "Google Play app and split APK delivery",
        "origin": "shipped default",
    }
    assert entry["acl"]["app"] == APP


def test_create_stores_a_valid_entry_where_the_detection_reads_it(installed: Path, stand_in: StandIn) -> None:
    answer = call(installed, stand_in, "allowed_destinations", "create", "example-cdn",
                  destination="cdn.example.net", app_id="*", comment="our CDN", disabled="0")  # fmt: skip
    assert answer["entries"]["example-cdn"]["content"]["destination"] == "cdn.example.net"
    keys = [r["_key"] for r in stand_in.collections["mobile_ingress_allowed_destinations"]]
    assert keys[-1] == "example-cdn" and "shipped-play.googleapis.com" in keys
    assert findings(search_lookups(stand_in, installed), chain("cdn.example.net")) == []


def test_create_refuses_a_cidr_that_does_not_parse_with_the_message_the_user_sees(
    installed: Path, stand_in: StandIn
) -> None:
    answer = call(installed, stand_in, "allowed_destinations", "create", "corp", destination="10.0.0.0/33")
    assert user_message(answer) == "Allowed destination refused: CIDR '10.0.0.0/33' does not parse."
    assert stand_in.writes() == []


def test_create_refuses_an_empty_glob_with_the_message_the_user_sees(
    installed: Path, stand_in: StandIn
) -> None:
    answer = call(installed, stand_in, "allowed_paths", "create", "p", platform="android", path_pattern=" ")
    assert (
        user_message(answer) == "Allowed path refused: path_pattern is empty (an empty glob matches nothing)."
    )


def test_the_engines_reason_comes_before_the_globalconfig_pattern(installed: Path, stand_in: StandIn) -> None:
    answer = call(installed, stand_in, "allowed_destinations", "create", "corp", destination="two words")
    assert user_message(answer) == (
        "Allowed destination refused: destination 'two words' is not a host name, IP or CIDR."
    )


def test_the_globalconfig_validators_run_server_side_too(installed: Path, stand_in: StandIn) -> None:
    answer = call(installed, stand_in, "allowed_destinations", "create", "corp", destination="a.example",
                  app_id="com example")  # fmt: skip
    assert (
        user_message(answer)
        == 'All of the following errors need to be fixed: ["Not matching the pattern: ^\\\\S*$"]'
    )
    assert stand_in.writes() == []


def test_edit_disables_a_shipped_default(installed: Path, stand_in: StandIn) -> None:
    answer = call(
        installed, stand_in, "allowed_destinations", "edit", "shipped-play.googleapis.com", disabled="1"
    )
    assert answer["entries"]["shipped-play.googleapis.com"]["content"]["disabled"] == "true"
    assert len(findings(search_lookups(stand_in, installed), chain("play.googleapis.com"))) == 1


def test_remove_of_a_shipped_default_is_refused_with_the_message_the_user_sees(
    installed: Path, stand_in: StandIn
) -> None:
    answer = call(installed, stand_in, "allowed_destinations", "remove", "shipped-play.googleapis.com")
    assert user_message(answer).startswith(
        "Allowed destination 'shipped-play.googleapis.com' is a shipped default and cannot be deleted"
    )
    assert stand_in.writes() == []


def test_settings_list_shows_the_macros(installed: Path, stand_in: StandIn) -> None:
    answer = call(installed, stand_in, "detection_settings", "list")
    assert {n: e["content"]["value"] for n, e in answer["entries"].items()} == {
        "time_window": "300", "ingress_bytes_threshold": "8192", "foreground_state_required": "false",
        "clock_skew": "10",
    }  # fmt: skip


def test_settings_edit_refuses_a_negative_window_with_the_message_the_user_sees(
    installed: Path, stand_in: StandIn
) -> None:
    answer = call(installed, stand_in, "detection_settings", "edit", "time_window", value="-5")
    assert user_message(answer) == "time_window must be a number of seconds above 0, got '-5'."
    assert stand_in.writes() == []


def test_settings_edit_refuses_an_unknown_setting_with_the_engines_message(
    installed: Path, stand_in: StandIn
) -> None:
    answer = call(installed, stand_in, "detection_settings", "edit", "window", value="5")
    assert user_message(answer).startswith("unknown element 'window'; known: time_window,")
    assert stand_in.writes() == []


def test_settings_edit_of_a_larger_window_moves_the_dispatch_window(
    installed: Path, stand_in: StandIn
) -> None:
    answer = call(installed, stand_in, "detection_settings", "edit", "time_window", value="3600")
    assert answer["entries"]["time_window"]["content"]["value"] == "3600"
    assert stand_in.macros["mobile_ingress_time_window"]["definition"] == "3600"
    assert (
        stand_in.saved["Mobile Ingress - DET0718 Mobile Ingress Tool Transfer - Rule"][
            "dispatch.earliest_time"
        ]
        == "-151m@m"
    )
