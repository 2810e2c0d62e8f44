"""Fixtures for the BigQuery-path tests: the session's emulator (tests/support/bq_emulator.py) and a spying client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support import bq_emulator


@pytest.fixture(scope="session")
def emulator() -> bq_emulator.Emulator:
    try:
        return bq_emulator.emulator()
    except bq_emulator.EmulatorUnavailable as exc:
        pytest.fail(f"the BigQuery stand-in is unavailable, so the BigQuery path is untested: {exc}")


class SpyClient:
    """The real `bigquery.Client`, with every load and query recorded (and optionally sabotaged): what the
    warehouse asked for is checked while the emulator does the work."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.loads: list[dict[str, Any]] = []
        self.queries: list[dict[str, Any]] = []
        self.created_datasets: list[Any] = []
        self.updated_datasets: list[tuple[Any, list[str]]] = []
        # called after a load was submitted for real; may raise to simulate a lost reply or a crash
        self.after_load: Callable[[dict[str, Any]], None] | None = None
        self.before_load: Callable[[dict[str, Any]], None] | None = None
        # job id -> a job to report instead of asking the emulator (a failed earlier attempt, say)
        self.job_override: Callable[[str], Any] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def load_table_from_file(self, file_obj, destination, **kwargs):
        call = {"destination": str(destination), "job_id": kwargs.get("job_id"), "config": kwargs.get("job_config")}
        if self.before_load:
            self.before_load(call)
        job = self._client.load_table_from_file(file_obj, destination, **kwargs)
        call["job"] = job
        self.loads.append(call)
        if self.after_load:
            self.after_load(call)
        return job

    def get_job(self, job_id, *args, **kwargs):
        fake = self.job_override(job_id) if self.job_override else None
        return fake if fake is not None else self._client.get_job(job_id, *args, **kwargs)

    def query(self, sql, job_config=None, **kwargs):
        self.queries.append({"sql": sql, "config": job_config})
        return self._client.query(sql, job_config=job_config, **kwargs)

    def create_dataset(self, dataset, *args, **kwargs):
        self.created_datasets.append(dataset)
        return self._client.create_dataset(dataset, *args, **kwargs)

    def update_dataset(self, dataset, fields, *args, **kwargs):
        self.updated_datasets.append((dataset, list(fields)))
        return self._client.update_dataset(dataset, fields, *args, **kwargs)


def pytest_sessionfinish(session, exitstatus) -> None:
    bq_emulator.stop()


def make_warehouse(emulator, tag: str, **kwargs: Any):
    """A BigQueryWarehouse on the emulator through a SpyClient, raw tables created, with the tests' short retries;
    `prefix` overrides the dataset prefix (else a fresh one starting with `tag`)."""
    from warehouse.bigquery_backend import BigQueryWarehouse

    spy = SpyClient(emulator.client())
    wh = BigQueryWarehouse(
        spy,
        dataset_prefix=kwargs.pop("prefix", bq_emulator.unique_prefix(tag)),
        location="US",
        retry=bq_emulator.TEST_RETRY,
        job_retry=bq_emulator.TEST_JOB_RETRY,
        api_timeout_s=30,
        job_timeout_s=60,
        **kwargs,
    )
    wh.ensure_raw()
    return wh, spy
