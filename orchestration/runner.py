"""Runs launched from the command line, executed in this process on the project's Dagster instance, so they are
recorded in its run storage and show in the UI (`make ui`) like scheduled runs. The plans (batches, chunks,
windows) are the same functions the schedule and sensors use."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import dagster as dg

from insights_jobs import Window
from insights_jobs.errors import redact
from orchestration.backfills import BACKFILL_TAG, CHUNK_TAG, clamp_backfill
from orchestration.jobs import DIAGNOSTICS_JOB, EXTRACT_JOB, MARTS_JOB, extract_run_config, marts_run_config
from orchestration.partitions import WORKSPACES, apply_partition_changes
from orchestration.planning import WorkspaceBatch, backfill_id, nightly_marts_window, plan_backfill_chunks, plan_batches
from orchestration.resources import RegistryResource
from orchestration.sensors import BATCHES_TAG, NIGHT_TAG, TRIGGER_TAG
from orchestration.settings import Settings

LOCAL_DAGSTER_YAML = """\
# Local Dagster instance of the embedded default (SQLite storage under this folder).
# Production uses Postgres storage instead: see the README, "Production".
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
concurrency:
  runs:
    # DuckDB admits one writing process at a time, so launched runs queue one behind the other.
    max_concurrent_runs: 1
  pools:
    # The `meta_api` pool (extraction steps): one Meta app's rate limits are shared by every run.
    default_limit: {pool_limit}
"""


def dagster_instance(settings: Settings) -> dg.DagsterInstance:
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(LOCAL_DAGSTER_YAML.format(pool_limit=settings.extract_pool_limit))
    return dg.DagsterInstance.from_config(str(home))


@dataclass
class RunOutcome:
    job: str
    run_id: str
    success: bool
    label: str = ""
    workspaces_ok: list[str] = field(default_factory=list)
    workspaces_failed: dict[str, list[str]] = field(default_factory=dict)
    reconnect_needed: list[str] = field(default_factory=list)
    error: str | None = None
    skipped: bool = False  # a backfill chunk that an earlier run already completed

    @property
    def all_ok(self) -> bool:
        return self.success and not self.workspaces_failed


def _is_dagster_wrapper(error) -> bool:
    return error.cls_name.startswith("Dagster") or error.cls_name in ("RetryRequestedFromPolicy", "RetryRequested")


def error_reason(error) -> str:
    """The reason of a Dagster error (SerializableErrorInfo) on one line: the first error in its cause chain that
    our code raised, not Dagster's wrappers ("Error occurred while executing op", "Exceeded max_retries of 2")."""
    chain = []
    while error is not None:
        chain.append(error)
        error = error.cause or error.context
    ours = next((e for e in chain if not _is_dagster_wrapper(e)), chain[-1])
    message = " ".join((ours.message or ours.cls_name or "unknown error").split())
    retried = next((e.message.strip() for e in chain if e.cls_name == "RetryRequestedFromPolicy"), None)
    if retried and ours is not chain[0]:
        message = f"{message} ({retried.rstrip('.').lower()})"
    return redact(message)


def _step_failure(result: dg.ExecuteInProcessResult) -> str | None:
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            desc = data.user_failure_data.description if data.user_failure_data else None
            message = redact(desc) if desc else (error_reason(data.error) if data.error else "unknown error")
            return f"step {event.step_key} failed: {message}"
    return None


def _extract_outcome(
    instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult, batch: WorkspaceBatch, label: str
) -> RunOutcome:
    """Per-workspace outcome from the run's events. Read from the instance's event log: events a step logged
    before failing are stored there, while the in-process result only carries those of successful steps."""
    out = RunOutcome(EXTRACT_JOB, result.run_id, result.success, label)
    insights_key = dg.AssetKey(["raw", "meta_insights"])
    kinds = {dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_OBSERVATION}
    for entry in instance.all_logs(result.run_id, of_type=kinds):
        event = entry.dagster_event
        if event.is_step_materialization:
            mat = event.step_materialization_data.materialization
            if mat.asset_key == insights_key and mat.partition:
                out.workspaces_ok.append(mat.partition)
        elif event.is_asset_observation:
            obs = event.asset_observation_data.asset_observation
            if obs.asset_key == insights_key and obs.partition:
                meta = {k: v.value for k, v in obs.metadata.items()}
                out.workspaces_failed[obs.partition] = list(meta.get("errors", []))
                if meta.get("reconnect_needed"):
                    out.reconnect_needed.append(obs.partition)
    if not result.success:
        out.error = _step_failure(result) or "the run failed"
        for w in batch.workspace_ids:
            if w not in out.workspaces_ok and w not in out.workspaces_failed:
                out.workspaces_failed[w] = [out.error]
    return out


def run_extract(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    batch: WorkspaceBatch,
    window: Window | None = None,
    tags: dict[str, str] | None = None,
    label: str = "",
) -> RunOutcome:
    single = len(batch.workspace_ids) == 1
    result = defs.resolve_job_def(EXTRACT_JOB).execute_in_process(
        run_config=extract_run_config(window),
        instance=instance,
        partition_key=batch.start if single else None,
        tags={**({} if single else batch.run_tags()), "workspace": batch.label, **(tags or {})},
        raise_on_error=False,
    )
    return _extract_outcome(instance, result, batch, label)


def run_marts(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    window: Window | None,
    workspaces: WorkspaceBatch,
    tags: dict[str, str] | None = None,
    full_refresh: bool = False,
) -> RunOutcome:
    """One dbt build over every workspace, then diagnostics for the `workspaces` partition range."""
    result = defs.resolve_job_def(MARTS_JOB).execute_in_process(
        run_config=marts_run_config(window, full_refresh),
        instance=instance,
        tags={**workspaces.run_tags(), **(tags or {})},
        raise_on_error=False,
    )
    label = f"window {window.start}..{window.end}" if window else "default window"
    out = RunOutcome(MARTS_JOB, result.run_id, result.success, label)
    if not result.success:
        out.error = _step_failure(result) or "the run failed"
    return out


def run_diagnostics_job(
    defs: dg.Definitions, instance: dg.DagsterInstance, workspace_id: str, night: date
) -> RunOutcome:
    """Diagnostics of one workspace for `night`, over the marts as they are (no extraction, no dbt)."""
    apply_partition_changes(instance, _registry(defs).list())
    result = defs.resolve_job_def(DIAGNOSTICS_JOB).execute_in_process(
        instance=instance,
        partition_key=workspace_id,
        tags={NIGHT_TAG: night.isoformat(), TRIGGER_TAG: "cli-diagnose", "workspace": workspace_id},
        raise_on_error=False,
    )
    out = RunOutcome(DIAGNOSTICS_JOB, result.run_id, result.success, f"night {night}")
    if not result.success:
        out.error = _step_failure(result) or "the run failed"
    return out


def _registry(defs: dg.Definitions):
    resource = defs.resources["registry"]
    assert isinstance(resource, RegistryResource)
    return resource.get()


def _chunk_done(instance: dg.DagsterInstance, bid: str, label: str) -> bool:
    runs = instance.get_runs(
        dg.RunsFilter(
            job_name=EXTRACT_JOB, tags={BACKFILL_TAG: bid, CHUNK_TAG: label}, statuses=[dg.DagsterRunStatus.SUCCESS]
        ),
        limit=1,
    )
    return bool(runs)


def sync_workspace(
    defs: dg.Definitions, instance: dg.DagsterInstance, settings: Settings, workspace_id: str, window: Window | None
) -> list[RunOutcome]:
    """Extract one workspace, then build the marts (so they reflect the sync when this returns).

    With an explicit window (a backfill), the window is cut into chunks of at most `backfill_chunk_days`, one run
    each; asking for the same backfill again skips the chunks that already succeeded (resume after a crash)."""
    registry = _registry(defs)
    ws = registry.get(workspace_id)
    if not ws.extractable:
        why = f"workspace {workspace_id} is {ws.status.value}" + ("" if ws.meta.ad_accounts else " with no ad accounts")
        raise ValueError(f"{why}: nothing to sync")
    apply_partition_changes(instance, registry.list())
    batch = WorkspaceBatch((workspace_id,))
    outcomes: list[RunOutcome] = []
    if window is None:
        outcomes.append(run_extract(defs, instance, batch, None, {TRIGGER_TAG: "cli-sync"}, "restatement window"))
        marts_window = nightly_marts_window(datetime.now(UTC).date(), settings.restatement_days)
    else:
        window = clamp_backfill(window)
        bid = backfill_id(workspace_id, window, settings.backfill_chunk_days)
        for chunk in plan_backfill_chunks(window, settings.backfill_chunk_days):
            label = f"chunk {chunk.label} {chunk.window.start}..{chunk.window.end}"
            if _chunk_done(instance, bid, chunk.label):
                outcomes.append(RunOutcome(EXTRACT_JOB, "-", True, label, skipped=True))
                continue
            tags = {TRIGGER_TAG: "cli-sync", BACKFILL_TAG: bid, CHUNK_TAG: chunk.label}
            outcome = run_extract(defs, instance, batch, chunk.window, tags, label)
            outcomes.append(outcome)
            if not outcome.success:
                break  # the same error would meet every later chunk; asking again resumes from here
        marts_window = window
    if any(o.workspaces_ok or o.skipped for o in outcomes):
        tags = {TRIGGER_TAG: "cli-sync", "workspace": workspace_id}
        outcomes.append(run_marts(defs, instance, marts_window, batch, tags))
    return outcomes


def run_nightly(defs: dg.Definitions, instance: dg.DagsterInstance, settings: Settings) -> list[RunOutcome]:
    """What the schedule and the marts sensor do, now: one run per batch of extractable workspaces, then the marts
    once, whatever the batches' outcome (a failed workspace must not keep the others' data out)."""
    registry = _registry(defs)
    workspaces = registry.list()
    apply_partition_changes(instance, workspaces)
    keys = instance.get_dynamic_partitions(WORKSPACES)
    today = datetime.now(UTC).date()
    night = today.isoformat()
    batches = plan_batches(keys, [w.id for w in workspaces if w.extractable], settings.nightly_batch_size)
    outcomes = []
    for i, b in enumerate(batches):
        tags = {
            NIGHT_TAG: night,
            TRIGGER_TAG: "cli-nightly",
            BATCHES_TAG: str(len(batches)),
            "sentrum/batch": str(i + 1),
        }
        outcomes.append(run_extract(defs, instance, b, None, tags, f"batch {i + 1}/{len(batches)}"))
    if any(o.workspaces_ok for o in outcomes):
        window = nightly_marts_window(today, settings.restatement_days)
        every = WorkspaceBatch(tuple(keys))
        outcomes.append(run_marts(defs, instance, window, every, {NIGHT_TAG: night, TRIGGER_TAG: "cli-nightly"}))
    return outcomes


def describe(outcomes: list[RunOutcome]) -> str:
    lines = []
    for o in outcomes:
        if o.skipped:
            lines.append(f"{o.job} {o.label}: already done by an earlier run, skipped")
            continue
        state = "succeeded" if o.success else "FAILED"
        lines.append(f"{o.job} run {o.run_id[:8]} {state}" + (f" ({o.label})" if o.label else ""))
        for w in o.workspaces_ok:
            lines.append(f"  ok      {w}")
        for w, errors in o.workspaces_failed.items():
            flag = " [reconnect needed]" if w in o.reconnect_needed else ""
            lines.append(f"  FAILED  {w}{flag}")
            for e in errors:
                lines.append(textwrap.indent(textwrap.fill(redact(e), 100), "          "))
        if o.error and not o.workspaces_failed:
            lines.append(textwrap.indent(textwrap.fill(o.error, 100), "  "))
    return "\n".join(lines)
