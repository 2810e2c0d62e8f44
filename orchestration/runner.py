"""What the CLI's pipeline commands run. A night is the schedule's and the marts sensor's requests
(`nightly_run_requests`, `marts_run_requests`), a backfill the backfill sensor's (`backfill_chunk_requests`,
`backfill_marts_request`): the same functions, with the CLI's trigger tag. `CliRuns` (launch.py) makes each request
a run of the `sentrum` code location and waits for it; the outcomes come from the instance's event log."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg

from dates import Window
from orchestration.asset_keys import AUDIT_KEY
from orchestration.backfills import backfill_chunk_requests, backfill_marts_request, clamp_backfill
from orchestration.jobs import DIAGNOSTICS_JOB, EXTRACT_JOB
from orchestration.launch import CliRuns
from orchestration.outcomes import RunOutcome, extract_outcome, materialization_metadata, run_outcome
from orchestration.partitions import WORKSPACES, apply_partition_changes
from orchestration.planning import backfill_id
from orchestration.resources import RegistryResource
from orchestration.schedules import nightly_run_requests
from orchestration.sensors import marts_run_request, marts_run_requests, run_info, run_workspaces
from orchestration.settings import Settings
from orchestration.tags import (
    BACKFILL_TAG,
    BATCH_TAG,
    BATCHES_TAG,
    CHUNK_TAG,
    CLI_DIAGNOSE,
    CLI_EXPORT,
    CLI_NIGHTLY,
    CLI_SWEEP,
    CLI_SYNC,
    NIGHT_TAG,
    TRIGGER_TAG,
    WORKSPACE_TAG,
)
from workspaces import Registry

SWEEP_JOB, EXPORT_JOB = "retention_sweep_job", "export_workspace"


def _registry(defs: dg.Definitions) -> Registry:
    resource = defs.resources["registry"]
    assert isinstance(resource, RegistryResource)
    return resource.get()


def _extracted(runs: CliRuns, run: dg.DagsterRun, keys: list[str], label: str) -> RunOutcome:
    return extract_outcome(runs.instance, run, run_workspaces(run.tags, keys), label)


def _batch_label(run: dg.DagsterRun) -> str:
    return f"batch {run.tags.get(BATCH_TAG, '1')}/{run.tags.get(BATCHES_TAG, '1')}"


def sync_workspace(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    settings: Settings,
    workspace_id: str,
    window: Window | None,
    verbose: bool = False,
) -> list[RunOutcome]:
    """Extract one workspace, then build the marts (so they reflect the sync when this returns).

    Without a window: the night's requests for this workspace alone (its restatement window), then the night's
    marts run for it. With a window (a backfill): the backfill sensor's chunks, one run each; asking for the same
    backfill again skips the chunks that already succeeded (resume after a crash), and a failed chunk stops the
    rest (the same error would meet them); then the window's marts run, when any chunk has landed."""
    registry = _registry(defs)
    ws = registry.get(workspace_id)
    if not ws.extractable:
        why = f"workspace {workspace_id} is {ws.status.value}" + ("" if ws.meta.ad_accounts else " with no ad accounts")
        raise ValueError(f"{why}: nothing to sync")
    apply_partition_changes(instance, registry.list())
    runs = CliRuns(defs, instance, verbose=verbose)
    outcomes: list[RunOutcome] = []
    if window is None:
        night = datetime.now(UTC).date().isoformat()
        for request in nightly_run_requests(night, [workspace_id], [ws], 1, trigger=CLI_SYNC):
            outcomes.append(_extracted(runs, runs.run(request), [workspace_id], "restatement window"))
        marts = marts_run_request(night, settings.restatement_days, [workspace_id], trigger=CLI_SYNC)
    else:
        window = clamp_backfill(window)
        chunk_days = settings.backfill_chunk_days
        bid = backfill_id(workspace_id, window, chunk_days)
        for request in backfill_chunk_requests(bid, workspace_id, window, chunk_days, trigger=CLI_SYNC):
            cfg = request.run_config["ops"]["meta_extract"]["config"]
            label = f"chunk {request.tags[CHUNK_TAG]} {cfg['start']}..{cfg['end']}"
            if _chunk_done(instance, bid, request.tags[CHUNK_TAG]):
                outcomes.append(RunOutcome(EXTRACT_JOB, "-", True, label, skipped=True))
                continue
            outcome = _extracted(runs, runs.run(request), [workspace_id], label)
            outcomes.append(outcome)
            if not outcome.success:
                break  # asking again resumes from here
        marts = backfill_marts_request(bid, workspace_id, window, chunk_days, trigger=CLI_SYNC)
    if any(o.workspaces_ok or o.skipped for o in outcomes):
        outcomes.append(_marts_outcome(runs, marts))
    return outcomes


def _chunk_done(instance: dg.DagsterInstance, bid: str, label: str) -> bool:
    runs = instance.get_runs(
        dg.RunsFilter(
            job_name=EXTRACT_JOB, tags={BACKFILL_TAG: bid, CHUNK_TAG: label}, statuses=[dg.DagsterRunStatus.SUCCESS]
        ),
        limit=1,
    )
    return bool(runs)


def _marts_outcome(runs: CliRuns, request: dg.RunRequest) -> RunOutcome:
    cfg = request.run_config["ops"]["sentrum_dbt"]["config"]
    return run_outcome(runs.instance, runs.run(request), f"window {cfg['window_start']}..{cfg['window_end']}")


def run_nightly(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    settings: Settings,
    queue: bool | None = None,
    verbose: bool = False,
) -> list[RunOutcome]:
    """What the schedule and the marts sensor do, now: the schedule's requests for tonight (one run per batch of
    extractable workspaces), then the marts sensor's request once they have all finished, whatever their outcome
    (a failed workspace must not keep the others' data out)."""
    registry = _registry(defs)
    workspaces = registry.list()
    apply_partition_changes(instance, workspaces)
    keys = instance.get_dynamic_partitions(WORKSPACES)
    night = datetime.now(UTC).date().isoformat()
    requests = nightly_run_requests(night, keys, workspaces, settings.nightly_batch_size, trigger=CLI_NIGHTLY)
    if not requests:
        return []
    runs = CliRuns(defs, instance, queue=queue, verbose=verbose)
    finished = runs.run_all(requests)
    outcomes = [_extracted(runs, run, keys, _batch_label(run)) for run in finished]
    marts = marts_run_requests([run_info(r) for r in finished], keys, settings.restatement_days, trigger=CLI_NIGHTLY)
    outcomes += [_marts_outcome(runs, request) for request in marts]
    return outcomes


def run_diagnostics_job(
    defs: dg.Definitions, instance: dg.DagsterInstance, workspace_id: str, night: date, verbose: bool = False
) -> RunOutcome:
    """Diagnostics of one workspace for `night`, over the marts as they are (no extraction, no dbt)."""
    apply_partition_changes(instance, _registry(defs).list())
    request = dg.RunRequest(
        job_name=DIAGNOSTICS_JOB,
        partition_key=workspace_id,
        tags={NIGHT_TAG: night.isoformat(), TRIGGER_TAG: CLI_DIAGNOSE, WORKSPACE_TAG: workspace_id},
    )
    runs = CliRuns(defs, instance, verbose=verbose)
    return run_outcome(instance, runs.run(request), f"night {night}")


def run_sweep(
    defs: dg.Definitions, instance: dg.DagsterInstance, config: dict, verbose: bool = False
) -> tuple[RunOutcome, dict]:
    """The retention sweep with `config` (SweepConfig); its outcome and its audit materialization's metadata."""
    request = dg.RunRequest(
        job_name=SWEEP_JOB,
        run_config={"ops": {"ops__retention_audit_log": {"config": config}}},
        tags={TRIGGER_TAG: CLI_SWEEP},
    )
    runs = CliRuns(defs, instance, verbose=verbose)
    run = runs.run(request)
    return run_outcome(instance, run), materialization_metadata(instance, run.run_id, AUDIT_KEY)


def run_export(
    defs: dg.Definitions, instance: dg.DagsterInstance, workspace_id: str, out: str, verbose: bool = False
) -> RunOutcome:
    request = dg.RunRequest(
        job_name=EXPORT_JOB,
        run_config={"ops": {"export_workspace_op": {"config": {"workspace": workspace_id, "out": out}}}},
        tags={TRIGGER_TAG: CLI_EXPORT, WORKSPACE_TAG: workspace_id},
    )
    return run_outcome(instance, CliRuns(defs, instance, verbose=verbose).run(request))
