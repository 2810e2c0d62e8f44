"""The project's Dagster instance for the embedded default: `$SENTRUM_HOME/dagster` (SQLite storage), its
`dagster.yaml` written on first use. A deployment brings its own `dagster.yaml` (Postgres) in that folder."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import yaml

from orchestration.settings import Settings

EVENT_LOG_MODULE = "orchestration.sqlite_events"

LOCAL_DAGSTER_YAML = """\
# Local Dagster instance of the embedded default (SQLite storage under this folder).
# Production uses Postgres storage instead: see the README, "Production".
telemetry:
  enabled: false
# no "join the community" newsletter prompt over the UI of an internal data platform
nux:
  enabled: false
# Dagster's SQLite event log (a file per run under history/runs, as by default), building each file's SQLAlchemy
# engine once per process instead of once per event: orchestration/sqlite_events.py.
event_log_storage:
  module: {event_log_module}
  class: EngineCachingSqliteEventLogStorage
  config:
    base_dir: {event_log_dir}
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
    if config.exists():
        _follow_a_moved_home(config, home)
    else:
        duckdb = settings.warehouse == "duckdb"
        config.write_text(
            LOCAL_DAGSTER_YAML.format(
                runs_why="DuckDB admits one writing process at a time: launched runs queue one behind the other."
                if duckdb
                else "BigQuery takes runs in parallel.",
                max_runs=DUCKDB_RUNS if duckdb else BIGQUERY_RUNS,
                pool_limit=settings.extract_pool_limit,
                event_log_module=EVENT_LOG_MODULE,
                event_log_dir=json.dumps(str(home / "history" / "runs")),  # Dagster's own place for them
            )
        )
    return dg.DagsterInstance.from_config(str(home))


def _follow_a_moved_home(config: Path, home: Path) -> None:
    """Our event log storage names its folder in full (Dagster's default derives it from the instance's folder): a
    home moved or copied elsewhere would go on writing to the old place. So the path is written again when it is
    not this home's. Only in a file this module wrote (a deployment's dagster.yaml is left as it is)."""
    text = config.read_text()
    if EVENT_LOG_MODULE not in text:
        return
    stored = (yaml.safe_load(text).get("event_log_storage") or {}).get("config", {}).get("base_dir")
    expected = str(home / "history" / "runs")
    if isinstance(stored, str) and stored != expected:
        config.write_text(text.replace(f"base_dir: {json.dumps(stored)}", f"base_dir: {json.dumps(expected)}"))
