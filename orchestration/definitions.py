"""The one Dagster entry point (`workspace.yaml` loads `defs`). Each domain module owns its own Definitions."""

from __future__ import annotations

import dagster as dg

from orchestration import jobs, sensors
from orchestration.assets import dbt, meta
from orchestration.resources import build_resources
from orchestration.schedules import build_nightly_schedule
from orchestration.settings import Settings, get_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions.merge(
        meta.defs,
        dbt.defs,
        jobs.defs,
        sensors.defs,
        dg.Definitions(
            schedules=[build_nightly_schedule(settings.nightly_cron, settings.nightly_batch_size)],
            resources=build_resources(settings),
        ),
    )


defs = build_definitions(get_settings())
