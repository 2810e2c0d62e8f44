"""The one Dagster entry point (`workspace.yaml` loads `defs`). Each domain module owns its own Definitions;
those that depend on settings are built here from one Settings object."""

import os

import dagster as dg

from orchestration import jobs, sensors
from orchestration.assets import dbt, diagnostics, meta
from orchestration.assets.retention import build_retention_defs
from orchestration.backfills import backfill_request_job, build_backfill_sensor
from orchestration.catalog import annotate
from orchestration.checks import build_checks
from orchestration.gc_tuning import collect_less, freeze_imported
from orchestration.resources import build_resources
from orchestration.schedules import build_nightly_schedule
from orchestration.sensors import build_marts_sensor
from orchestration.settings import Settings, get_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    defs = dg.Definitions.merge(
        meta.defs,
        dbt.defs,
        diagnostics.defs,
        jobs.defs,
        sensors.defs,
        build_retention_defs(settings.deletion_sla_days, settings.sweep_cron, settings.schedules_running),
        dg.Definitions(
            asset_checks=build_checks(settings.freshness_hours, settings.token_warning_days),
            jobs=[backfill_request_job],
            schedules=[
                build_nightly_schedule(settings.nightly_cron, settings.nightly_batch_size, settings.schedules_running)
            ],
            sensors=[
                build_marts_sensor(settings.restatement_days, settings.marts_sensor_interval_seconds),
                build_backfill_sensor(settings.backfill_chunk_days),
            ],
            resources=build_resources(settings),
        ),
    )
    return annotate(defs, settings.warehouse, settings.llm)


# Runs launched from the UI or the daemon execute in processes that load this module: what they write under
# SENTRUM_HOME (event logs, compute logs, dbt artefacts, the warehouse's WAL) is the owner's only, as from the CLI.
os.umask(0o077)
defs = build_definitions(get_settings())
# Every process of the code location (the CLI, code server, run workers) has made its imports by now (gc_tuning.py).
collect_less()
freeze_imported()
