"""Fixtures: a DuckDB warehouse in a temp file, and the local Responses API stub."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.diagnostics.openai_stub import ResponsesStub
from warehouse import DuckDBWarehouse


@pytest.fixture
def wh(tmp_path) -> Iterator[DuckDBWarehouse]:
    with DuckDBWarehouse(tmp_path / "warehouse.duckdb") as warehouse:
        yield warehouse


@pytest.fixture
def stub() -> Iterator[ResponsesStub]:
    with ResponsesStub() as server:
        yield server


def pytest_sessionfinish(session, exitstatus) -> None:
    # The BigQuery stand-in is shared by the session; stop it if a test here started it (imported lazily, so a
    # DuckDB-only run does not pay for the BigQuery client's import).
    if "tests.support.bq_emulator" in sys.modules:
        sys.modules["tests.support.bq_emulator"].stop()
