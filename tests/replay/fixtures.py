"""The replay, run once per test session and shared (tests/conftest.py registers these): the
replay tests read it, and the dashboard tests run the dashboards' own searches over its indexes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .deployment import Deployment
from .scenario import Scenario, build_scenario


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return build_scenario(seed=7)


@pytest.fixture(scope="session")
def replay(scenario: Scenario) -> Iterator[Deployment]:
    """The whole scenario replayed (about 90 s): every scheduled search run on its schedule."""
    deployment = Deployment(scenario)
    try:
        deployment.advance(scenario.end)
        yield deployment
    finally:
        deployment.close()
