"""The environment dbt_project/profiles.yml reads, built from one warehouse's values. No Dagster here.

dbt reuses a saved parse (partial parsing) only when the profile renders to the same connection values as when it
was saved: its state check hashes them (`connection_info()`: for DuckDB the file's path and its memory, threads and
temp folder; for BigQuery the auth method, project, dataset, location, bytes cap and retries). So the prepared parse
(`dbt_prepare.prepare_dbt`) and every run's dbt (the warehouse resources' `dbt_env`) render the profile from these
same functions and the same settings; a difference makes each run parse the whole project again.
"""

from __future__ import annotations

from orchestration.settings import Settings


def duckdb_profile_env(path: str, memory_limit: str, threads: int, temp_directory: str | None) -> dict[str, str]:
    env = {
        "SENTRUM_DUCKDB_PATH": path,
        "SENTRUM_DBT_TARGET": "duckdb",
        "SENTRUM_DUCKDB_MEMORY_LIMIT": memory_limit,
        "SENTRUM_DUCKDB_THREADS": str(threads),
    }
    if temp_directory:
        env["SENTRUM_DUCKDB_TEMP_DIR"] = temp_directory
    return env


def bigquery_profile_env(
    project: str | None,
    location: str | None,
    dataset_prefix: str,
    maximum_bytes_billed: int | None,
    api_endpoint: str | None = None,
    keyfile: str | None = None,
) -> dict[str, str]:
    """`api_endpoint`: a stand-in (a dummy token, no retries); else `keyfile` (a service account's key file), else
    application default credentials."""
    env = {
        "SENTRUM_DBT_TARGET": "bigquery",
        "SENTRUM_BQ_PROJECT": project or "",
        "SENTRUM_BQ_LOCATION": location or "US",
        "SENTRUM_BQ_DATASET_PREFIX": dataset_prefix,
        # 0: no cap (dbt-bigquery sends no maximum_bytes_billed then)
        "SENTRUM_BQ_MAX_BYTES_BILLED": str(maximum_bytes_billed or 0),
    }
    if api_endpoint:
        env.update(
            SENTRUM_BQ_API_ENDPOINT=api_endpoint,
            SENTRUM_BQ_AUTH_METHOD="oauth-secrets",
            SENTRUM_BQ_TOKEN="stand-in",
            SENTRUM_BQ_JOB_RETRIES="0",
        )
    elif keyfile is not None:
        env.update(SENTRUM_BQ_AUTH_METHOD="service-account", SENTRUM_BQ_KEYFILE=keyfile)
    else:
        env["SENTRUM_BQ_AUTH_METHOD"] = "oauth"  # application default credentials
    return env


def profile_env(settings: Settings) -> dict[str, str]:
    """The profile's environment as a run under `settings` gives it to dbt (orchestration/resources.py builds the
    warehouse resource from the same settings). A key file's path is not part of dbt's hash: an empty one stands
    in for the run's temporary file."""
    if settings.warehouse == "bigquery":
        return bigquery_profile_env(
            settings.bq_project,
            settings.bq_location,
            settings.bq_dataset_prefix,
            settings.bq_max_bytes_billed,
            settings.bq_api_endpoint,
            "" if settings.bq_credentials else None,
        )
    return duckdb_profile_env(
        str(settings.duckdb_file),
        settings.duckdb_memory_limit,
        settings.duckdb_threads,
        str(settings.duckdb_temp_directory),
    )
