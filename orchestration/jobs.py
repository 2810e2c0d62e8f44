"""Jobs. Extraction runs per batch of workspaces; the marts are built once after them, over all workspaces."""

import dagster as dg

from dates import Window
from orchestration.assets.dbt import sentrum_dbt
from orchestration.assets.diagnostics import diagnostics_findings
from orchestration.assets.meta import meta_extract

EXTRACT_JOB = "meta_extract_job"
MARTS_JOB = "marts_job"
DIAGNOSTICS_JOB = "diagnostics_job"

extract_job = dg.define_asset_job(
    EXTRACT_JOB,
    # The checks on what extraction writes (freshness per workspace) run after the marts, once a night.
    selection=dg.AssetSelection.assets(meta_extract).without_checks(),
    description="Extract the run's workspace partition(s) from Meta into the raw tables.",
    # Single process: extraction parallelises inside its step, and DuckDB admits one writer.
    executor_def=dg.in_process_executor,
)

marts_job = dg.define_asset_job(
    MARTS_JOB,
    selection=dg.AssetSelection.assets(sentrum_dbt, diagnostics_findings)
    | dg.AssetSelection.checks_for_assets(meta_extract),
    description="One dbt build over every workspace for a date window (staging, intermediate, marts, tests), then "
    "diagnostics for the run's workspace partitions.",
    executor_def=dg.in_process_executor,
)

diagnostics_job = dg.define_asset_job(
    DIAGNOSTICS_JOB,
    selection=dg.AssetSelection.assets(diagnostics_findings),
    description="Diagnostics alone, for the run's workspace partition(s) and its `night` tag (default: today), over "
    "the marts as they are: after tuning thresholds, or to look at an earlier night (`sentrum diagnose`).",
    executor_def=dg.in_process_executor,
)


def extract_run_config(window: Window | None) -> dict:
    if window is None:
        return {}
    return {"ops": {"meta_extract": {"config": {"start": window.start.isoformat(), "end": window.end.isoformat()}}}}


def marts_run_config(window: Window | None, full_refresh: bool = False) -> dict:
    config: dict = {"full_refresh": full_refresh}
    if window is not None:
        config.update(window_start=window.start.isoformat(), window_end=window.end.isoformat())
    return {"ops": {"sentrum_dbt": {"config": config}}}


defs = dg.Definitions(jobs=[extract_job, marts_job, diagnostics_job])
