"""The warehouse contract runs against both backends: a DuckDB file in tmp, and BigQuery on the emulator.

`make_wh()` opens a warehouse on the test's own storage (the same DuckDB file, or the same dataset prefix, each
time), so a test can close and reopen it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import bq_emulator
from warehouse import DuckDBWarehouse, Warehouse

BACKENDS = ["duckdb", "bigquery"]


def bigquery_warehouse(prefix: str, **kwargs) -> Warehouse:
    from warehouse.bigquery_backend import BigQueryWarehouse

    try:
        emulator = bq_emulator.emulator()
    except bq_emulator.EmulatorUnavailable as exc:
        pytest.fail(f"the BigQuery stand-in is unavailable, so the BigQuery path is untested: {exc}")
    return BigQueryWarehouse(
        emulator.client(),
        dataset_prefix=prefix,
        location="US",
        retry=bq_emulator.TEST_RETRY,
        job_retry=bq_emulator.TEST_JOB_RETRY,
        api_timeout_s=30,
        job_timeout_s=60,
        **kwargs,
    )


# The marker on the parameter itself, so that `-m "not bigquery"` deselects those cases at collection.
@pytest.fixture(params=[pytest.param(b, marks=pytest.mark.bigquery) if b == "bigquery" else b for b in BACKENDS])
def backend(request) -> str:
    return request.param


@pytest.fixture
def make_wh(backend: str, tmp_path: Path) -> Iterator[Callable[..., Warehouse]]:
    opened: list[Warehouse] = []
    prefix = bq_emulator.unique_prefix("wh")

    def make(**kwargs) -> Warehouse:
        if backend == "duckdb":
            wh: Warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
        else:
            wh = bigquery_warehouse(prefix, **kwargs)
        opened.append(wh)
        return wh

    yield make
    for wh in opened:
        with contextlib.suppress(Exception):  # a test that broke a warehouse on purpose
            wh.close()


@pytest.fixture
def wh(make_wh) -> Warehouse:
    w = make_wh()
    w.ensure_raw()
    return w


def pytest_sessionfinish(session, exitstatus) -> None:
    bq_emulator.stop()
