"""What every part of the BigQuery backend shares: the client and its settings, names, labels, error wrapping and
query jobs. `BigQueryWarehouse` (bigquery_backend.py) puts it together with the loads and the catalog."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import requests
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.auth.exceptions import GoogleAuthError
from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_JOB_RETRY

from warehouse.bigquery_params import query_parameter, rows_parameter
from warehouse.errors import WarehouseError
from warehouse.labels import WORKSPACE_LABEL, label_value, workspace_label
from warehouse.schema import LAYERS, Table
from warehouse.sql import check_identifier, check_params

# BigQuery's own rules: project ids (incl. legacy domain-scoped `example.com:project`), dataset time travel
# (2 to 7 days, whole days).
_PROJECT = re.compile(r"^(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_PREFIX = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]{0,63})?$")
TIME_TRAVEL_HOURS = range(48, 169, 24)


class BigQueryCore:
    """The client, the deployment's names and the query path. Thread-safe (the client is)."""

    def __init__(
        self,
        client: bigquery.Client,
        *,
        dataset_prefix: str = "sentrum_",
        location: str | None = None,
        time_travel_hours: int = 48,
        layers: Sequence[str] = LAYERS,
        labels: Mapping[str, str] | None = None,
        retry: Retry | None = None,
        job_retry: Retry | None | object = ...,
        api_timeout_s: float = 60.0,
        job_timeout_s: float = 3600.0,
        close_client: bool = False,
        clock: Callable[[], datetime] | None = None,
        component: str = "pipeline",
        maximum_bytes_billed: int | None = None,
    ) -> None:
        if not _PROJECT.match(client.project or ""):
            raise WarehouseError(f"invalid BigQuery project id {client.project!r}")
        if not _PREFIX.match(dataset_prefix):
            raise WarehouseError(f"invalid dataset prefix {dataset_prefix!r}: letters, digits and '_' only")
        if time_travel_hours not in TIME_TRAVEL_HOURS:
            raise WarehouseError(
                f"time travel must be 48 to 168 hours in whole days (BigQuery's rule), not {time_travel_hours}"
            )
        self.client = client
        # when batches start and complete (the manifest's timestamps); tests pin it to replay batches exactly
        self._clock = clock or (lambda: datetime.now(UTC))
        self.project: str = client.project
        self.prefix = dataset_prefix
        self.location = location or client.location or "US"
        self.time_travel_hours = time_travel_hours
        self.layers = tuple(check_identifier(layer, "layer name") for layer in layers)
        self.labels = {check_identifier(k, "label key").lower(): label_value(v) for k, v in (labels or {}).items()}
        self.retry = retry if retry is not None else bigquery.DEFAULT_RETRY
        # Re-runs of a failed query job (rate limits, backend errors). Any non-None value also makes the client
        # retry the job insert for ~10 minutes on its own terms; None disables both (the tests' setting).
        self.job_retry = DEFAULT_JOB_RETRY if job_retry is ... else job_retry
        self.api_timeout_s = api_timeout_s
        self.job_timeout_s = job_timeout_s
        self._close_client = close_client
        # every job's `sentrum_component` label unless the call names its own (diagnostics, retention, extraction)
        self.component = label_value(component)
        if maximum_bytes_billed is not None and (
            isinstance(maximum_bytes_billed, bool)
            or not isinstance(maximum_bytes_billed, int)
            or maximum_bytes_billed < 1
        ):
            raise WarehouseError(
                f"maximum_bytes_billed must be a positive number of bytes, not {maximum_bytes_billed!r}"
            )
        # BigQuery fails a query job that would bill more than this, before it runs (None: no cap)
        self.maximum_bytes_billed = maximum_bytes_billed

    # -- names ----------------------------------------------------------------------------------------------
    def dataset_id(self, layer: str) -> str:
        return f"{self.prefix}{check_identifier(layer, 'layer name')}"

    def table_ref(self, schema: str, table: str) -> str:
        return f"`{self.project}.{self.dataset_id(schema)}.{check_identifier(table, 'table name')}`"

    def _table_id(self, table: Table) -> str:
        return f"{self.project}.{self.dataset_id(table.schema)}.{table.name}"

    def _job_labels(
        self, job: str, layer: str | None = None, workspace: str | None = None, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """The labels of one job: the configured ones, `sentrum_component`, `job`, and `layer` and `workspace` (a
        digest, warehouse/labels.py) when the job has them; `extra` (a caller's labels) overrides."""
        labels = {**self.labels, "sentrum_component": self.component, "job": label_value(job)}
        if layer:
            labels["layer"] = label_value(layer)
        if workspace:
            labels[WORKSPACE_LABEL] = workspace_label(workspace)
        for key, value in (extra or {}).items():
            key = check_identifier(key, "label key").lower()
            labels[key] = workspace_label(value) if key == WORKSPACE_LABEL else label_value(value)
        return labels

    def _labels(self, job: str, labels: Mapping[str, str] | None) -> dict[str, str]:
        return self._job_labels(job, extra=labels)

    def _query_config(self, labels: dict[str, str], parameters: Sequence[Any]) -> bigquery.QueryJobConfig:
        """Every query job's configuration: labelled, standard SQL, capped at `maximum_bytes_billed`."""
        config = bigquery.QueryJobConfig(query_parameters=list(parameters), labels=labels, use_legacy_sql=False)
        if self.maximum_bytes_billed is not None:
            config.maximum_bytes_billed = self.maximum_bytes_billed
        return config

    @contextmanager
    def _api(self, what: str) -> Iterator[None]:
        try:
            yield
        except gexc.GoogleAPICallError as exc:
            raise WarehouseError(f"BigQuery {what}: {exc.message}") from exc
        except (gexc.GoogleAPIError, GoogleAuthError, requests.RequestException) as exc:  # retries exhausted, auth
            raise WarehouseError(f"BigQuery {what}: {exc}") from exc
        except TimeoutError as exc:  # job.result(timeout=)
            raise WarehouseError(f"BigQuery {what}: timed out after {self.job_timeout_s:.0f} s") from exc

    # -- SQL ------------------------------------------------------------------------------------------------
    def _submit(self, sql: str, params: Mapping[str, Any] | None, labels: dict[str, str]) -> bigquery.QueryJob:
        values = check_params(sql, params, dialect="bigquery")
        config = self._query_config(labels, [query_parameter(k, v) for k, v in values.items()])
        return self.client.query(
            sql,
            job_config=config,
            location=self.location,
            retry=self.retry,
            job_retry=self.job_retry,
            timeout=self.api_timeout_s,
        )

    def query(
        self, sql: str, params: Mapping[str, Any] | None = None, *, labels: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        with self._api("query"):
            job = self._submit(sql, params, self._labels("query", labels))
            rows = job.result(retry=self.retry, timeout=self.job_timeout_s, job_retry=self.job_retry)
            return [dict(row.items()) for row in rows]

    def execute(
        self, sql: str, params: Mapping[str, Any] | None = None, *, labels: Mapping[str, str] | None = None
    ) -> int:
        with self._api("statement"):
            job = self._submit(sql, params, self._labels("dml", labels))
            job.result(retry=self.retry, timeout=self.job_timeout_s, job_retry=self.job_retry)
            return int(job.num_dml_affected_rows or 0)

    def _run_rows(self, sql: str, table: Table, rows: Sequence[Mapping[str, Any]], job: str) -> bigquery.QueryJob:
        config = self._query_config(self._job_labels(job, layer=table.schema), [rows_parameter("rows", table, rows)])
        result = self.client.query(
            sql,
            job_config=config,
            location=self.location,
            retry=self.retry,
            job_retry=self.job_retry,
            timeout=self.api_timeout_s,
        )
        result.result(retry=self.retry, timeout=self.job_timeout_s, job_retry=self.job_retry)
        return result
