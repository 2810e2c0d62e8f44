"""Dagster resources over the plain packages, built from Settings in one place (`build_resources`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from dates import Window
from insights_jobs import ExtractConfig
from insights_jobs.token_health import TokenHealth, inspect_tokens
from orchestration.dbt_profile import duckdb_profile_env
from orchestration.duckdb_session import LOCK_WAIT_S, duckdb_bounds, duckdb_session, tell_stderr, writer_lock
from orchestration.settings import Settings
from secret_store import LocalSecretStore, SecretStore
from warehouse import BatchKey, BatchWriter, Warehouse
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
    """The embedded default's warehouse: one DuckDB file. (Production: `BigQueryWarehouseResource`, same methods.)

    Every session (`open`, and dbt's build within `dbt_env`) holds the writer's lock (duckdb_session.py): a second
    run waits, saying for whom in its log, up to `lock_wait_s`."""

    duckdb_path: str
    # DuckDB's bounds (Settings: SENTRUM_DUCKDB_MEMORY_LIMIT, _THREADS, _TEMP_DIR, _WRITE_BUFFER_MB)
    memory_limit: str = "2GB"
    threads: int = 4
    temp_directory: str | None = None
    write_buffer_mb: int = 16
    lock_wait_s: float = LOCK_WAIT_S
    _log: Any = PrivateAttr(default=None)
    _holder: str = PrivateAttr(default="the command line")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._log = context.log
        if context.run is not None:
            self._holder = f"run {context.run.run_id[:8]}"

    def _waiting(self, holder: str) -> None:
        if self._log is not None:
            self._log.info(f"waiting for the warehouse (held by {holder})")
        else:
            tell_stderr(holder)

    @contextmanager
    def open(self) -> Iterator[Warehouse]:
        with duckdb_session(
            self.duckdb_path,
            self.memory_limit,
            self.threads,
            self.temp_directory,
            self.write_buffer_mb,
            self._holder,
            self.lock_wait_s,
            self._waiting,
        ) as wh:
            yield wh

    @contextmanager
    def dbt_env(self) -> Iterator[dict[str, str]]:
        """What dbt's profiles.yml reads to reach this warehouse, with the same bounds as the extractor's; dbt writes
        within the block (on DuckDB, holding the writer's lock)."""
        env = duckdb_profile_env(self.duckdb_path, self.memory_limit, self.threads, self.temp_directory)
        with writer_lock(self.duckdb_path, self._holder, self.lock_wait_s, self._waiting):
            yield env


class _WarehouseRegistry:
    """The BigQuery control-table registry, opening the warehouse per call (the registry is read a few times a run)."""

    def __init__(self, warehouse: Any) -> None:
        self._warehouse = warehouse

    def _call(self, method: str, *args: Any) -> Any:
        from workspaces import BigQueryRegistry

        with self._warehouse.open() as wh:
            return getattr(BigQueryRegistry(wh), method)(*args)

    def list(self) -> list:
        return self._call("list")

    def get(self, workspace_id: str):
        return self._call("get", workspace_id)

    def upsert(self, workspace, check=None) -> None:
        self._call("upsert", workspace, check)

    def remove(self, workspace_id: str) -> bool:
        return self._call("remove", workspace_id)


class RegistryResource(dg.ConfigurableResource):
    """A YAML file (embedded default) or, with location `bigquery`, the control table `<prefix>ops.workspaces`."""

    location: str
    # The BigQuery warehouse resource's fields, for the control table (built lazily: no Google imports otherwise).
    bigquery: dict[str, Any] | None = None

    def get(self) -> Registry:
        if self.location == "bigquery":
            if self.bigquery is None:
                raise dg.Failure("SENTRUM_REGISTRY=bigquery needs SENTRUM_WAREHOUSE=bigquery")
            from orchestration.bigquery import BigQueryWarehouseResource

            return _WarehouseRegistry(BigQueryWarehouseResource(**self.bigquery))
        return YamlRegistry(self.location)


class SecretStoreResource(dg.ConfigurableResource):
    """`local`: the encrypted file store; `gcp`: Secret Manager (one secret per workspace token)."""

    kind: str = "local"
    directory: str
    project: str | None = None

    def get(self) -> SecretStore:
        if self.kind == "gcp":
            from secret_store import SecretManagerStore

            if not self.project:
                raise dg.Failure("SENTRUM_SECRETS=gcp needs SENTRUM_BQ_PROJECT (the project holding the secrets)")
            # a new store per call: its cache of token versions lives for one run only
            return SecretManagerStore(self.project)
        return LocalSecretStore(self.directory)


class MetaApiResource(dg.ConfigurableResource):
    graph_url: str
    api_version: str
    restatement_days: int
    account_concurrency: int = 8
    # debug_token's caller: the app token when both are set, else each token inspects itself.
    app_id: str | None = None
    app_secret: str | None = None
    token_warning_days: int = 14

    def inspect_tokens(self, tokens: Mapping[str, str]) -> dict[str, TokenHealth]:
        """Workspace -> TokenHealth (debug_token) for each workspace's token; never raises."""
        return inspect_tokens(self.graph_url, self.api_version, tokens, app_id=self.app_id, app_secret=self.app_secret)

    def extract_config(self) -> ExtractConfig:
        return ExtractConfig(
            graph_url=self.graph_url,
            api_version=self.api_version,
            restatement_days=self.restatement_days,
            concurrency=self.account_concurrency,
        )


class LlmResource(dg.ConfigurableResource):
    """The narrator's provider (SENTRUM_LLM): `offline` by default, `openai` or `anthropic` with structured output."""

    kind: str = "offline"
    model: str | None = None
    api_key: str | None = None
    base_url: str | None = None
    redact_names: bool = False
    budget_tokens: int = 50_000
    concurrency: int = 4
    slot_seconds: float = 1800.0

    def narrator(self):
        """A new narrator (one per run: its breaker and slot start now)."""
        from diagnostics import build_narrator  # diagnostics' imports are for runs that narrate, not for every CLI

        return build_narrator(
            self.kind if self.kind in ("openai", "anthropic") else "offline",  # type: ignore[arg-type]
            api_key=self.api_key,
            base_url=self.base_url,
            model=self.model,
            budget_tokens=self.budget_tokens,
            redact_names=self.redact_names,
            deadline_s=self.slot_seconds,
        )


class RetentionPaths(dg.ConfigurableResource):
    exports_dir: str
    # dbt's manifest and per-run artefacts (orchestration/dbt_project.py); the sweep removes what names a workspace
    dbt_dir: str | None = None


def _bigquery_fields(settings: Settings) -> dict[str, Any]:
    fields = {
        "project": settings.bq_project,
        "location": settings.bq_location,
        "dataset_prefix": settings.bq_dataset_prefix,
        "api_endpoint": settings.bq_api_endpoint,
        "gcp_credentials": settings.bq_credentials.get_secret_value() if settings.bq_credentials else None,
        "time_travel_hours": settings.bq_time_travel_hours,
        "maximum_bytes_billed": settings.bq_max_bytes_billed,
    }
    return {k: v for k, v in fields.items() if v is not None}  # Dagster config maps take no nulls


def warehouse_resource(settings: Settings) -> Any:
    """DuckDB (`WarehouseResource`) or BigQuery (`BigQueryWarehouseResource`): the same `open()` and `dbt_env()`."""
    if settings.warehouse == "bigquery":
        from orchestration.bigquery import BigQueryWarehouseResource

        return BigQueryWarehouseResource(**_bigquery_fields(settings))
    return WarehouseResource(**duckdb_bounds(settings))


def registry_resource(settings: Settings) -> RegistryResource:
    bigquery = _bigquery_fields(settings) if settings.warehouse == "bigquery" else None
    return RegistryResource(location=settings.registry_location, bigquery=bigquery)


def secret_store_resource(settings: Settings) -> SecretStoreResource:
    return SecretStoreResource(kind=settings.secrets, directory=str(settings.secrets_dir), project=settings.bq_project)


def llm_resource(settings: Settings) -> LlmResource:
    anthropic = settings.llm == "anthropic"
    key = settings.anthropic_api_key if anthropic else settings.openai_api_key
    return LlmResource(
        kind=settings.llm,
        model=settings.anthropic_model if anthropic else settings.openai_model,
        api_key=key.get_secret_value() if key else None,
        base_url=settings.anthropic_base_url if anthropic else settings.openai_base_url,
        redact_names=settings.llm_redact_names,
        budget_tokens=settings.llm_budget_tokens,
        concurrency=settings.llm_concurrency,
        slot_seconds=settings.llm_slot_seconds,
    )


def build_resources(settings: Settings) -> dict[str, Any]:
    from orchestration.dbt_project import dbt_resource  # dagster-dbt: imported only where the definitions are built

    return {
        "warehouse": warehouse_resource(settings),
        "registry": registry_resource(settings),
        "secrets": secret_store_resource(settings),
        "meta": MetaApiResource(
            graph_url=settings.meta_graph_url,
            api_version=settings.meta_api_version,
            restatement_days=settings.restatement_days,
            account_concurrency=settings.extract_concurrency,
            app_id=settings.meta_app_id,
            app_secret=settings.meta_app_secret.get_secret_value() if settings.meta_app_secret else None,
            token_warning_days=settings.token_warning_days,
        ),
        "dbt": dbt_resource(settings),
        "retention_paths": RetentionPaths(exports_dir=str(settings.exports_dir), dbt_dir=str(settings.dbt_dir)),
        "llm": llm_resource(settings),
    }
