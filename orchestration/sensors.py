"""Sensors: the `workspaces` partitions follow the registry; the marts are built once a night's extraction is done,
and after any other successful extraction run (one launched from the UI), for that run's workspaces.

The marts sensor's body is `marts_run_requests` and `follow_up_marts_requests`, pure functions of the runs;
`sentrum nightly` and `sentrum sync` run the requests `marts_run_requests` and `marts_run_request` return (runner.py);
the backfill sensor builds its own marts run (backfills.py)."""

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from dates import Window
from orchestration.jobs import EXTRACT_JOB, MARTS_JOB, marts_job, marts_run_config
from orchestration.partitions import WORKSPACES, partition_changes
from orchestration.planning import WorkspaceBatch, nightly_marts_window
from orchestration.resources import RegistryResource
from orchestration.tags import (
    BACKFILL_TAG,
    BATCH_TAG,
    BATCHES_TAG,
    NIGHT_TAG,
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    SCHEDULE_TRIGGER,
    TRIGGER_TAG,
    WORKSPACE_TAG,
)

FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
# Nights looked back on: a night older than this whose marts never ran is left to an operator.
NIGHTS_LOOKED_BACK = 3


@dg.sensor(
    name="workspaces_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition for each workspace in the registry; removes those that left it (swept).",
)
def workspaces_sensor(context: dg.SensorEvaluationContext, registry: RegistryResource) -> dg.SensorResult:
    workspaces = registry.get().list()
    # The cursor is a digest of the registry's workspace ids: an unchanged registry is skipped without touching
    # the instance's partition table.
    digest = hashlib.sha256(",".join(sorted(w.id for w in workspaces)).encode()).hexdigest()[:16]
    if context.cursor == digest:
        return dg.SensorResult(skip_reason=dg.SkipReason("registry unchanged"))
    changes = partition_changes(workspaces, context.instance.get_dynamic_partitions(WORKSPACES))
    requests = []
    if changes.add:
        requests.append(dg.AddDynamicPartitionsRequest(WORKSPACES, changes.add))
    if changes.remove:
        requests.append(dg.DeleteDynamicPartitionsRequest(WORKSPACES, changes.remove))
    if requests:
        context.log.info(f"partitions: +{changes.add} -{changes.remove}")
    return dg.SensorResult(dynamic_partitions_requests=requests, cursor=digest)


@dataclass(frozen=True)
class RunInfo:
    night: str
    status: dg.DagsterRunStatus
    batches: int
    batch: str = ""  # the `sentrum/batch` tag; an automatic retry carries its parent's
    awaiting_retry: bool = False  # failed, and run retries (dagster.yaml) are about to launch it again


def run_info(run: dg.DagsterRun) -> RunInfo:
    """What the marts sensor needs of a night's extraction run (tagged with its night)."""
    return RunInfo(
        run.tags[NIGHT_TAG],
        run.status,
        int(run.tags.get(BATCHES_TAG, "1")),
        run.tags.get(BATCH_TAG, ""),
        run.is_complete_and_waiting_to_retry,
    )


def nights_ready_for_marts(runs: Sequence[RunInfo]) -> list[str]:
    """Nights whose scheduled extraction runs have all finished (succeeded or not: one workspace's failure must not
    keep the others' fresh data out of the marts). A failed run that will be retried has not finished, and a batch
    counts once however many retries it took."""
    by_night: dict[str, list[RunInfo]] = defaultdict(list)
    for r in runs:
        by_night[r.night].append(r)
    ready = []
    for night, rs in sorted(by_night.items()):
        expected = max(r.batches for r in rs)
        batches = {r.batch or f"run {i}" for i, r in enumerate(rs)}
        if len(batches) >= expected and all(r.status in FINISHED and not r.awaiting_retry for r in rs):
            ready.append(night)
    return ready


def marts_run_request(
    night: str, restatement_days: int, partition_keys: Sequence[str], trigger: str = SCHEDULE_TRIGGER
) -> dg.RunRequest:
    """The night's one marts run: dbt over every workspace for the night's window, then diagnostics for the
    `partition_keys` (all workspaces at night; one after `sentrum sync`)."""
    window = nightly_marts_window(date.fromisoformat(night), restatement_days)
    workspaces = WorkspaceBatch(tuple(partition_keys))
    return dg.RunRequest(
        run_key=f"marts:{night}",  # once per night, however often the sensor looks
        job_name=MARTS_JOB,
        run_config=marts_run_config(window),
        tags={**workspaces.run_tags(), NIGHT_TAG: night, TRIGGER_TAG: trigger, WORKSPACE_TAG: workspaces.label},
    )


def marts_run_requests(
    runs: Sequence[RunInfo], partition_keys: Sequence[str], restatement_days: int, trigger: str = SCHEDULE_TRIGGER
) -> list[dg.RunRequest]:
    """One marts run for each recent night whose extraction runs have all finished."""
    if not partition_keys:
        return []
    ready = nights_ready_for_marts(runs)[-NIGHTS_LOOKED_BACK:]
    return [marts_run_request(night, restatement_days, partition_keys, trigger) for night in ready]


def run_workspaces(tags: Mapping[str, str], partition_keys: Sequence[str]) -> list[str]:
    """The workspace partitions an extraction run covers: its partition, or its range of `partition_keys`."""
    if tags.get(PARTITION_TAG):
        return [tags[PARTITION_TAG]]
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if start in partition_keys and end in partition_keys:
        return list(partition_keys[partition_keys.index(start) : partition_keys.index(end) + 1])
    return []


@dataclass(frozen=True)
class ExtractionRun:
    """What the marts sensor needs of an extraction run that is not part of a night, a backfill or a command."""

    run_id: str
    tags: Mapping[str, str]
    day: str  # the UTC date it finished: the night its diagnostics judge
    start: str | None = None  # an explicit window (`meta_extract` config)
    end: str | None = None


def extraction_run(run: dg.DagsterRun, finished_at: datetime) -> ExtractionRun:
    cfg = run.run_config.get("ops", {}).get("meta_extract", {}).get("config", {}) if run.run_config else {}
    return ExtractionRun(run.run_id, dict(run.tags), finished_at.date().isoformat(), cfg.get("start"), cfg.get("end"))


def needs_follow_up(tags: Mapping[str, str]) -> bool:
    """A run whose marts nobody else builds: not the schedule's or a command's (TRIGGER_TAG), not a backfill chunk
    (the backfill sensor builds the marts once for the whole window)."""
    return TRIGGER_TAG not in tags and BACKFILL_TAG not in tags


def follow_up_marts_requests(
    runs: Sequence[ExtractionRun], partition_keys: Sequence[str], restatement_days: int
) -> list[dg.RunRequest]:
    """One marts run after each successful extraction run launched by hand (from the UI): dbt over every workspace
    for the run's window (its explicit dates, else the night's window ending the day it finished), diagnostics for
    the run's workspaces. Run key per extraction run: a run is followed once."""
    requests = []
    for run in runs:
        if not needs_follow_up(run.tags):
            continue
        workspaces = [w for w in run_workspaces(run.tags, partition_keys) if w in partition_keys]
        if not workspaces:
            continue
        if run.start and run.end:
            window = Window(date.fromisoformat(run.start), date.fromisoformat(run.end))
        else:
            window = nightly_marts_window(date.fromisoformat(run.day), restatement_days)
        batch = WorkspaceBatch(tuple(workspaces))
        requests.append(
            dg.RunRequest(
                run_key=f"marts-after:{run.run_id}",
                job_name=MARTS_JOB,
                run_config=marts_run_config(window),
                tags={**batch.run_tags(), NIGHT_TAG: run.day, WORKSPACE_TAG: batch.label},
            )
        )
    return requests


def build_marts_sensor(restatement_days: int, interval_seconds: int = 60) -> dg.SensorDefinition:
    @dg.sensor(
        name="nightly_marts_sensor",
        job=marts_job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Builds the marts once every extraction run of a night has finished (one marts run per night), "
        "and after any other successful extraction run, such as one launched from the UI (for its workspaces).",
    )
    def nightly_marts_sensor(context: dg.SensorEvaluationContext):
        keys = context.instance.get_dynamic_partitions(WORKSPACES)
        if not keys:
            return dg.SkipReason("no workspace partitions")
        records = context.instance.get_runs(
            dg.RunsFilter(job_name=EXTRACT_JOB, tags={TRIGGER_TAG: SCHEDULE_TRIGGER}), limit=2000
        )
        requests = marts_run_requests([run_info(r) for r in records if NIGHT_TAG in r.tags], keys, restatement_days)
        since = datetime.now(UTC) - timedelta(days=NIGHTS_LOOKED_BACK)
        manual = context.instance.get_run_records(
            dg.RunsFilter(job_name=EXTRACT_JOB, statuses=[dg.DagsterRunStatus.SUCCESS], updated_after=since),
            limit=500,
        )
        finished = [
            extraction_run(r.dagster_run, datetime.fromtimestamp(r.end_time, UTC) if r.end_time else r.update_timestamp)
            for r in manual
            if needs_follow_up(r.dagster_run.tags)
        ]
        requests += follow_up_marts_requests(finished, keys, restatement_days)
        return requests or dg.SkipReason("no night with all its extraction runs finished, no extraction to follow")

    return nightly_marts_sensor


defs = dg.Definitions(sensors=[workspaces_sensor])
