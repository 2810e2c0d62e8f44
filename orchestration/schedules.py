"""The nightly schedule: every extractable workspace, in batches (one run per batch). The marts follow once per
night, launched by `nightly_marts_sensor` when all of the night's batches have finished.

The schedule's body is `nightly_run_requests`, a pure function; `sentrum nightly` and `sentrum sync` run the
requests it returns (runner.py)."""

from collections.abc import Sequence

import dagster as dg

from orchestration.jobs import EXTRACT_JOB, extract_job
from orchestration.partitions import WORKSPACES
from orchestration.planning import plan_batches
from orchestration.resources import RegistryResource
from orchestration.tags import BATCH_TAG, BATCHES_TAG, NIGHT_TAG, SCHEDULE_TRIGGER, TRIGGER_TAG, WORKSPACE_TAG
from workspaces import Workspace


def nightly_run_requests(
    night: str,
    partition_keys: Sequence[str],
    workspaces: Sequence[Workspace],
    batch_size: int,
    trigger: str = SCHEDULE_TRIGGER,
) -> list[dg.RunRequest]:
    """One RunRequest per batch, with a run key per night and batch so a re-evaluation never launches twice.
    Disconnected and deleting workspaces are not extracted (from the moment their status changes). `trigger` says
    who asks: the marts sensor builds the marts of the schedule's nights only (the CLI builds its own)."""
    extractable = [w.id for w in workspaces if w.extractable]
    batches = plan_batches(partition_keys, extractable, batch_size)
    return [
        dg.RunRequest(
            run_key=f"nightly:{night}:{i:04d}",
            job_name=EXTRACT_JOB,
            tags={
                **batch.run_tags(),
                NIGHT_TAG: night,
                TRIGGER_TAG: trigger,
                BATCHES_TAG: str(len(batches)),
                BATCH_TAG: str(i + 1),
                WORKSPACE_TAG: batch.label,
            },
        )
        for i, batch in enumerate(batches)
    ]


def schedule_status(running: bool) -> dg.DefaultScheduleStatus:
    """A schedule's state until someone changes it in the UI (SENTRUM_SCHEDULES_RUNNING)."""
    return dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED


def build_nightly_schedule(cron: str, batch_size: int, running: bool = False) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="nightly",
        cron_schedule=cron,
        job=extract_job,
        execution_timezone="UTC",
        default_status=schedule_status(running),
        description="Extracts every active workspace (restatement window, account timezones) in batches; the marts "
        "are built once when all batches have finished.",
    )
    def nightly(context: dg.ScheduleEvaluationContext, registry: RegistryResource):
        night = context.scheduled_execution_time.date().isoformat()
        keys = context.instance.get_dynamic_partitions(WORKSPACES)
        requests = nightly_run_requests(night, keys, registry.get().list(), batch_size)
        if not requests:
            return dg.SkipReason("no active workspace with a partition")
        return requests

    return nightly
