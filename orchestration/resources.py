"""Dagster resources over the plain packages, built from Settings in one place (`build_resources`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg

from insights_jobs import ExtractConfig, Window
from orchestration.settings import Settings
from secret_store import LocalSecretStore, SecretStore
from warehouse import BatchKey, BatchWriter, DuckDBWarehouse, Warehouse
from workspaces import Registry, YamlRegistry


class WarehouseSink:
    """Adapts the warehouse to the extractor's Sink (insights_jobs does not import warehouse)."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def open_batch(
        self, workspace_id: str, account_id: str, report: str, window: Window | None, params: Mapping[str, Any]
    ) -> BatchWriter:
        key = BatchKey(
            workspace_id, account_id, report, window.start if window else None, window.end if window else None
        )
        return self.warehouse.open_batch(key, params)


class WarehouseResource(dg.ConfigurableResource):
    kind: str = "duckdb"
    duckdb_path: str

    @contextmanager
    def open(self) -> Iterator[Warehouse]:
        if self.kind != "duckdb":
            raise dg.Failure(f"warehouse {self.kind!r} is not available yet; use SENTRUM_WAREHOUSE=duckdb")
        with DuckDBWarehouse(self.duckdb_path) as wh:
            yield wh

    def dbt_env(self) -> dict[str, str]:
        """What dbt's profiles.yml reads to reach this warehouse."""
        return {"SENTRUM_DUCKDB_PATH": self.duckdb_path, "SENTRUM_DBT_TARGET": self.kind}


class RegistryResource(dg.ConfigurableResource):
    location: str

    def get(self) -> Registry:
        if self.location == "bigquery":
            raise dg.Failure("the BigQuery registry is not available yet; set SENTRUM_REGISTRY to a YAML path")
        return YamlRegistry(self.location)


class SecretStoreResource(dg.ConfigurableResource):
    kind: str = "local"
    directory: str

    def get(self) -> SecretStore:
        if self.kind != "local":
            raise dg.Failure("Secret Manager is not available yet; use SENTRUM_SECRETS=local")
        return LocalSecretStore(self.directory)


class MetaApiResource(dg.ConfigurableResource):
    graph_url: str
    api_version: str
    restatement_days: int = 28
    account_concurrency: int = 8
    workspace_concurrency: int = 4
    job_poll_initial_s: float = 0.5
    job_timeout_s: float = 3600.0

    def extract_config(self) -> ExtractConfig:
        return ExtractConfig(
            graph_url=self.graph_url,
            api_version=self.api_version,
            restatement_days=self.restatement_days,
            concurrency=self.account_concurrency,
            job_poll_initial_s=self.job_poll_initial_s,
            job_timeout_s=self.job_timeout_s,
        )


def build_resources(settings: Settings) -> dict[str, Any]:
    from orchestration.assets.dbt import dbt_resource

    return {
        "warehouse": WarehouseResource(kind=settings.warehouse, duckdb_path=str(settings.duckdb_file)),
        "registry": RegistryResource(location=settings.registry_location),
        "secrets": SecretStoreResource(kind=settings.secrets, directory=str(settings.secrets_dir)),
        "meta": MetaApiResource(
            graph_url=settings.meta_graph_url,
            api_version=settings.meta_api_version,
            restatement_days=settings.restatement_days,
            account_concurrency=settings.extract_concurrency,
        ),
        "dbt": dbt_resource(settings),
    }
