"""The BigQuery warehouse as a Dagster resource, on top of dagster-gcp's `BigQueryResource`.

Credentials are dagster-gcp's: `gcp_credentials` (a base64-encoded service-account JSON key, for deployments without
workload identity) or, when it is unset, application default credentials (workload identity, a VM's service account,
`gcloud auth application-default login`). `api_endpoint` points the client at a stand-in instead (tests), with
anonymous credentials.

    resource = BigQueryWarehouseResource(project="my-project", location="EU", dataset_prefix="sentrum_")
    with resource.open() as wh:      # a warehouse.BigQueryWarehouse; flushed (load jobs) and closed on exit
        wh.ensure_raw()
        ...
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import dagster as dg
from dagster_gcp import BigQueryResource
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from pydantic import Field

from orchestration.dbt_profile import bigquery_profile_env
from warehouse import BigQueryWarehouse


class BigQueryWarehouseResource(BigQueryResource):
    """`project` and `location` (dagster-gcp's fields) name the target; the rest shapes the warehouse."""

    dataset_prefix: str = Field(default="sentrum_", description="Datasets are <prefix>raw, <prefix>marts, ...")
    time_travel_hours: int = Field(
        default=48, description="Dataset time-travel window, 48-168 h in whole days (48: BigQuery's minimum)"
    )
    api_endpoint: str | None = Field(
        default=None, description="A BigQuery stand-in's URL (tests); unset for BigQuery itself"
    )
    flush_mb: int = Field(default=512, description="A table's spool is loaded once it passes this size")
    spool_dir: str | None = Field(default=None, description="Where spooled rows wait for their load job (tmp)")
    job_timeout_s: float = Field(default=3600.0, description="Longest wait for one load or query job")
    labels: dict[str, str] = Field(default_factory=dict, description="Added to every dataset and job")
    maximum_bytes_billed: int | None = Field(
        default=None, description="Every query job's cap in bytes, for the pipeline and dbt (None: no cap)"
    )

    @contextmanager
    def get_client(self) -> Iterator[bigquery.Client]:
        if self.api_endpoint:
            yield bigquery.Client(
                project=self.project,
                location=self.location,
                credentials=AnonymousCredentials(),
                client_options=ClientOptions(api_endpoint=self.api_endpoint),
            )
            return
        if not self.project:
            raise dg.Failure("SENTRUM_BQ_PROJECT is not set: the BigQuery warehouse needs a project")
        with super().get_client() as client:
            yield client

    @contextmanager
    def open(self) -> Iterator[BigQueryWarehouse]:
        """A warehouse for one unit of work: committed batches are loaded when the block ends (also when it fails:
        they are complete)."""
        with self.get_client() as client:
            warehouse = BigQueryWarehouse(
                client,
                dataset_prefix=self.dataset_prefix,
                location=self.location,
                time_travel_hours=self.time_travel_hours,
                labels={"app": "sentrum", **self.labels},
                spool_dir=self.spool_dir,
                flush_bytes=self.flush_mb * 1024 * 1024,
                job_timeout_s=self.job_timeout_s,
                maximum_bytes_billed=self.maximum_bytes_billed,
            )
            try:
                yield warehouse
            finally:
                try:
                    warehouse.close()
                finally:
                    client.close()

    @contextmanager
    def dbt_env(self) -> Iterator[dict[str, str]]:
        """What dbt_project/profiles.yml reads to reach this warehouse, for the duration of the block. With
        `gcp_credentials` the key is written to a private temp file (mode 0600) for dbt and removed afterwards."""
        env = partial(bigquery_profile_env, self.project, self.location, self.dataset_prefix, self.maximum_bytes_billed)
        if self.api_endpoint:
            yield env(api_endpoint=self.api_endpoint)
            return
        if not self.gcp_credentials:
            yield env()  # application default credentials
            return
        try:
            key = json.loads(base64.b64decode(self.gcp_credentials, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise dg.Failure("gcp_credentials is not base64-encoded service-account JSON") from exc
        fd, path = tempfile.mkstemp(prefix="sentrum-dbt-key-", suffix=".json")  # created 0600
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(key, fh)
            yield env(keyfile=path)
        finally:
            os.unlink(path)
