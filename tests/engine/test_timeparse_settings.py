from __future__ import annotations

import pytest

from mobile_ingress.engine.errors import InvalidEvent, SettingError
from mobile_ingress.engine.settings import Settings, parse_setting
from mobile_ingress.engine.timeparse import parse_time


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        (1700000000, 1700000000.0),
        (1700000000.25, 1700000000.25),
        ("1700000000", 1700000000.0),
        (1700000000123, 1700000000.123),
        ("1700000000123", 1700000000.123),
        ("2023-11-14T22:13:20Z", 1700000000.0),
        ("2023-11-14T22:13:20.5Z", 1700000000.5),
        ("2023-11-15T00:13:20+02:00", 1700000000.0),
        ("2023-11-14T20:13:20-0200", 1700000000.0),
    ],
)
def test_times_in_every_contract_form_become_epoch_seconds(raw: object, seconds: float) -> None:
    assert parse_time(raw) == pytest.approx(seconds)


@pytest.mark.parametrize("raw", ["2023-11-14T22:13:20", "yesterday", "", None, "nan", True])
def test_times_without_zone_or_not_times_are_invalid(raw: object) -> None:
    with pytest.raises(InvalidEvent):
        parse_time(raw)


def test_scalar_elements_accept_both_names_and_typed_values() -> None:
    settings = Settings().with_values(
        {"mobile_ingress_time_window": "600", "foreground_state_required": "TRUE", "clock_skew": 0}
    )
    assert settings.time_window == 600 and settings.foreground_state_required and settings.clock_skew == 0


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("time_window", "0", "time_window"),
        ("time_window", "abc", "time_window"),
        ("ingress_bytes_threshold", "-1", "ingress_bytes_threshold"),
        ("foreground_state_required", "maybe", "true or false"),
        ("window", "5", "unknown element"),
    ],
)
def test_bad_elements_are_refused_naming_the_element(name: str, value: str, words: str) -> None:
    with pytest.raises(SettingError, match=words):
        parse_setting(name, value)
