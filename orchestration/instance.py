"""The project's Dagster instance for the embedded default: `$SENTRUM_HOME/dagster` (SQLite storage), its
`dagster.yaml` written on first use. A deployment brings its own `dagster.yaml` (Postgres) in that folder."""

from __future__ import annotations

import dagster as dg

from orchestration.settings import Settings

LOCAL_DAGSTER_YAML = """\
# Local Dagster instance of the embedded default (SQLite storage under this folder).
# Production uses Postgres storage instead: see the README, "Production".
telemetry:
  enabled: false
# no "join the community" newsletter prompt over the UI of an internal data platform
nux:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
concurrency:
  runs:
    # {runs_why}
    max_concurrent_runs: {max_runs}
  pools:
    # The `meta_api` pool (extraction steps): one Meta app's rate limits are shared by every run.
    default_limit: {pool_limit}
"""
# DuckDB admits one writing process at a time: runs launched by the daemon queue one behind the other (a run
# started from the command line without a daemon waits at the warehouse's lock instead). BigQuery takes several.
DUCKDB_RUNS, BIGQUERY_RUNS = 1, 4


def dagster_instance(settings: Settings) -> dg.DagsterInstance:
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = home / "dagster.yaml"
    if not config.exists():
        duckdb = settings.warehouse == "duckdb"
        config.write_text(
            LOCAL_DAGSTER_YAML.format(
                runs_why="DuckDB admits one writing process at a time: launched runs queue one behind the other."
                if duckdb
                else "BigQuery takes runs in parallel.",
                max_runs=DUCKDB_RUNS if duckdb else BIGQUERY_RUNS,
                pool_limit=settings.extract_pool_limit,
            )
        )
    return dg.DagsterInstance.from_config(str(home))
