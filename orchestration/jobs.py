"""Jobs. `sentrum_sync` extracts a workspace (or a range of workspaces) and then builds the marts."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.dbt import sentrum_dbt
from orchestration.assets.meta import meta_extract

SYNC_JOB = "sentrum_sync"

sync_job = dg.define_asset_job(
    SYNC_JOB,
    selection=dg.AssetSelection.assets(meta_extract) | dg.AssetSelection.assets(sentrum_dbt),
    description="Extract the run's workspace partition(s) from Meta, then one dbt build over all workspaces.",
    # Single process: DuckDB admits one writer, and extraction parallelises inside its step.
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(jobs=[sync_job])
