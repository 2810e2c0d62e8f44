"""The environment contract (architecture.md, "Contracts"): every setting with its local default.

Only `orchestration/` reads the environment; the plain packages get these values as arguments.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from facebook_business.apiconfig import ads_api_config
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dates import RESTATEMENT_DAYS

SDK_API_VERSION: str = ads_api_config["API_VERSION"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SENTRUM_", extra="ignore", frozen=True)

    home: Path = Path(".sentrum")
    warehouse: Literal["duckdb", "bigquery"] = "duckdb"
    duckdb_path: Path | None = None
    # DuckDB's bounds, in every process that opens the file (extraction, dbt): memory it may hold before it spills
    # to `duckdb_temp_dir` (DuckDB's own default is 80% of RAM: a workspace month drove dbt to 18 GB), and threads.
    duckdb_memory_limit: str = "2GB"
    duckdb_threads: int = Field(default=4, ge=1, le=256)
    duckdb_temp_dir: Path | None = None
    # A batch being written holds at most this much (Arrow) per table before it is inserted (bench/load/README.md).
    duckdb_write_buffer_mb: int = Field(default=16, ge=1, le=4096)
    bq_project: str | None = None
    bq_location: str | None = None
    bq_dataset_prefix: str = "sentrum_"
    # A base64 service-account key; unset: application default credentials (workload identity).
    bq_credentials: SecretStr | None = None
    # BigQuery's minimum (2 days): deleted rows stay recoverable that long, then 7 days of fail-safe (README).
    bq_time_travel_hours: int = Field(default=48, ge=48, le=168)
    # A BigQuery stand-in (tests); unset for BigQuery itself.
    bq_api_endpoint: str | None = None
    # Every query job of the pipeline and of dbt fails, before it runs, if it would bill more bytes than this;
    # unset or empty: no cap. Size it for the biggest legitimate job (a --full-refresh of the facts).
    bq_max_bytes_billed: int | None = Field(default=None, ge=1)
    meta_graph_url: str = "https://graph.facebook.com"
    meta_api_version: str = SDK_API_VERSION
    # A YAML file path, or the word "bigquery" for the control table.
    registry: str | None = None
    secrets: Literal["local", "gcp"] = "local"
    llm: Literal["offline", "openai", "anthropic"] = "offline"
    openai_model: str = "gpt-4.1-mini"
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_BASE_URL"))
    anthropic_model: str = "claude-haiku-4-5"
    anthropic_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY"))
    anthropic_base_url: str | None = Field(default=None, validation_alias=AliasChoices("ANTHROPIC_BASE_URL"))
    # Workspaces narrated at once in a diagnostics run (one request in flight each); the run's one breaker is shared.
    llm_concurrency: int = Field(default=4, ge=1, le=64)
    # The run's narration slot: past it nothing more is sent, the rest is narrated offline (marked so).
    llm_slot_seconds: float = Field(default=1800.0, gt=0)
    # Object names can contain people's names: replace them with stable pseudonyms before they leave the process.
    llm_redact_names: bool = False
    # Tokens one workspace's narratives may spend per night; the rest is narrated offline.
    llm_budget_tokens: int = Field(default=50_000, ge=0)

    # Each night re-pulls yesterday and the 28 days before it (`dates.RESTATEMENT_DAYS`: Meta's 28 days).
    restatement_days: int = Field(default=RESTATEMENT_DAYS, ge=1, le=90)
    # Token health: the app's id and secret let `GET /debug_token` be asked with the app token Meta documents;
    # unset, a token inspects itself. A workspace whose token (or data access) expires within this many days is
    # flagged "reconnect" in ops.workspace_health, by an asset check and in `sentrum workspaces list`.
    meta_app_id: str | None = None
    meta_app_secret: SecretStr | None = None
    token_warning_days: int = Field(default=14, ge=1, le=90)
    nightly_cron: str = "0 2 * * *"
    # Workspaces per nightly extraction run: a Dagster run costs fixed overhead, so workspaces share runs.
    nightly_batch_size: int = Field(default=50, ge=1, le=1000)
    # Accounts extracted concurrently inside one run.
    extract_concurrency: int = Field(default=8, ge=1, le=64)
    # Extraction runs at once across the deployment (a Dagster concurrency pool): one Meta app's limits are shared.
    extract_pool_limit: int = Field(default=2, ge=1, le=64)
    # Backfills are cut into runs of at most this many days, so a long history is resumable run by run.
    backfill_chunk_days: int = Field(default=90, ge=1, le=1200)
    # The privacy promise is 30 days; the sweep runs daily and this check fails well before (README: erasure timeline).
    deletion_sla_days: int = Field(default=7, ge=1, le=30)
    sweep_cron: str = "0 4 * * *"
    # Whether the nightly and sweep schedules run from the start: a deployment's image says yes; a laptop (`make ui`
    # on the demo's state) leaves them off until someone turns them on in the UI.
    schedules_running: bool = False
    # How often the marts sensor looks for a night whose extraction runs have all finished: the marts follow the
    # night's last run within this. The daemon looks at its sensors every 5 s at most.
    marts_sensor_interval_seconds: int = Field(default=60, ge=5, le=3600)
    # A workspace without a successful extraction for longer than this fails its freshness check.
    freshness_hours: int = Field(default=36, ge=1)

    @field_validator("bq_max_bytes_billed", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: object) -> object:
        # deploy/env.example leaves it empty, and Compose passes an empty value
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _memory_shape(cls, v: str) -> str:
        import re

        if not re.fullmatch(r"\d+(\.\d+)?\s*([KMGT]i?B)", v.strip(), re.IGNORECASE):
            raise ValueError(f"SENTRUM_DUCKDB_MEMORY_LIMIT must look like 2GB or 512MiB, got {v!r}")
        return v.strip()

    @field_validator("meta_api_version")
    @classmethod
    def _version_shape(cls, v: str) -> str:
        import re

        if not re.fullmatch(r"v\d+\.\d+", v):
            raise ValueError(f"SENTRUM_META_API_VERSION must look like v26.0, got {v!r}")
        return v

    @field_validator("meta_graph_url")
    @classmethod
    def _graph_url_shape(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"SENTRUM_META_GRAPH_URL must be an http(s) URL, got {v!r}")
        return v.rstrip("/")

    @cached_property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def duckdb_file(self) -> Path:
        return (self.duckdb_path or self.home_dir / "warehouse.duckdb").expanduser().resolve()

    @property
    def duckdb_temp_directory(self) -> Path:
        """Where DuckDB spills what does not fit in its memory limit."""
        return (self.duckdb_temp_dir or self.home_dir / "duckdb_tmp").expanduser().resolve()

    @property
    def registry_location(self) -> str:
        """`bigquery`, or the absolute path of the YAML registry."""
        if self.registry == "bigquery":
            return "bigquery"
        return str(Path(self.registry).expanduser().resolve() if self.registry else self.home_dir / "workspaces.yaml")

    @property
    def dagster_home(self) -> Path:
        return self.home_dir / "dagster"

    @property
    def exports_dir(self) -> Path:
        return self.home_dir / "exports"

    @property
    def secrets_dir(self) -> Path:
        return self.home_dir / "secrets"

    @property
    def dbt_dir(self) -> Path:
        """dbt's manifest (`target/`) and each run's artefacts and logs (`runs/<run id>-<n>/`): never inside the
        repository, which may be read-only and must not collect run results that name workspaces."""
        return self.home_dir / "dbt"


def prepare_home(settings: Settings) -> Path:
    """Create SENTRUM_HOME owner-only (0700) if it is missing; an existing folder keeps its mode."""
    home = settings.home_dir
    if not home.exists():
        home.mkdir(parents=True, mode=0o700)
        os.chmod(home, 0o700)  # mkdir's mode is masked by the umask
    return home


def get_settings() -> Settings:
    """Settings read from the environment now (not cached: the CLI and tests change the environment)."""
    return Settings()
