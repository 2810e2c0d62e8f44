"""The nightly schedule: every extractable workspace, in batches (one run per batch)."""

import dagster as dg

from orchestration.jobs import SYNC_JOB, sync_job
from orchestration.partitions import WORKSPACES, plan_batches
from orchestration.resources import RegistryResource
from workspaces import Workspace


def nightly_run_requests(
    night: str, partition_keys: list[str], workspaces: list[Workspace], batch_size: int
) -> list[dg.RunRequest]:
    """One RunRequest per batch, with a run key per night and batch so a re-evaluation never launches twice."""
    extractable = [w.id for w in workspaces if w.extractable]
    return [
        dg.RunRequest(
            run_key=f"nightly:{night}:{i:04d}",
            job_name=SYNC_JOB,
            tags={**batch.run_tags(), "night": night, "sentrum/batch": f"{i + 1}"},
        )
        for i, batch in enumerate(plan_batches(partition_keys, extractable, batch_size))
    ]


def build_nightly_schedule(cron: str, batch_size: int) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="nightly",
        cron_schedule=cron,
        job=sync_job,
        execution_timezone="UTC",
        description="Extract every active workspace (restatement window, account timezones), then build the marts.",
    )
    def nightly(context: dg.ScheduleEvaluationContext, registry: RegistryResource):
        night = context.scheduled_execution_time.date().isoformat()
        keys = context.instance.get_dynamic_partitions(WORKSPACES)
        requests = nightly_run_requests(night, keys, registry.get().list(), batch_size)
        if not requests:
            return dg.SkipReason("no active workspace with a partition")
        return requests

    return nightly
