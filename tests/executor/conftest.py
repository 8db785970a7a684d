"""Fixtures of the executor's tests: an instance over a small test app, closed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.executor import Splunk

from .support import make_app


@pytest.fixture
def sp(tmp_path: Path) -> Iterator[Splunk]:
    instance = Splunk(make_app(tmp_path), seed=0)
    yield instance
    instance.close()
