"""Runs launched from the command line, executed in this process on the project's Dagster instance, so they
are recorded in its run storage and show in the UI (`make ui`) like scheduled runs."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from insights_jobs import Window
from orchestration.jobs import SYNC_JOB
from orchestration.partitions import WORKSPACES, WorkspaceBatch, apply_partition_changes, plan_batches
from orchestration.resources import RegistryResource
from orchestration.settings import Settings

LOCAL_DAGSTER_YAML = """\
# Local Dagster instance of the embedded default (SQLite storage under this folder).
# Production uses Postgres run/event storage instead: see the README, "Production".
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    # DuckDB admits one writing process at a time, so launched runs queue one behind the other.
    max_concurrent_runs: 1
"""


def dagster_instance(settings: Settings) -> dg.DagsterInstance:
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(LOCAL_DAGSTER_YAML)
    return dg.DagsterInstance.from_config(str(home))


@dataclass
class RunOutcome:
    run_id: str
    success: bool
    workspaces: tuple[str, ...]
    workspaces_ok: list[str] = field(default_factory=list)
    workspaces_failed: dict[str, list[str]] = field(default_factory=dict)
    reconnect_needed: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def all_ok(self) -> bool:
        return self.success and not self.workspaces_failed


def _step_failure(result: dg.ExecuteInProcessResult) -> str | None:
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            desc = data.user_failure_data.description if data.user_failure_data else None
            message = desc or (data.error.message.strip() if data.error else "unknown error")
            return f"step {event.step_key} failed: {message}"
    return None


def _outcome(result: dg.ExecuteInProcessResult, batch: WorkspaceBatch) -> RunOutcome:
    out = RunOutcome(run_id=result.run_id, success=result.success, workspaces=batch.workspace_ids)
    meta: dict[str, Any] = {}
    for mat in result.asset_materializations_for_node("meta_extract"):
        if mat.asset_key == dg.AssetKey(["raw", "meta_insights"]):
            meta = {k: v.value for k, v in mat.metadata.items()}
    out.workspaces_ok = list(meta.get("workspaces_ok", []))
    out.workspaces_failed = dict(meta.get("workspaces_failed", {}))
    out.reconnect_needed = list(meta.get("reconnect_needed", []))
    if not result.success:
        out.error = _step_failure(result) or "the run failed"
        if not meta:
            out.workspaces_failed = {w: [out.error] for w in batch.workspace_ids}
    return out


def run_batch(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    batch: WorkspaceBatch,
    window: Window | None = None,
    tags: dict[str, str] | None = None,
) -> RunOutcome:
    job = defs.resolve_job_def(SYNC_JOB)
    run_config: dict[str, Any] = {}
    if window:
        run_config = {"ops": {"meta_extract": {"config": {"start": str(window.start), "end": str(window.end)}}}}
    single = len(batch.workspace_ids) == 1
    result = job.execute_in_process(
        run_config=run_config,
        instance=instance,
        partition_key=batch.start if single else None,
        tags={**({} if single else batch.run_tags()), **(tags or {}), "workspace": ",".join(batch.workspace_ids)[:200]},
        raise_on_error=False,
    )
    return _outcome(result, batch)


def _registry(defs: dg.Definitions):
    resource = defs.resources["registry"]
    assert isinstance(resource, RegistryResource)
    return resource.get()


def sync_workspace(
    defs: dg.Definitions, instance: dg.DagsterInstance, workspace_id: str, window: Window | None
) -> RunOutcome:
    registry = _registry(defs)
    ws = registry.get(workspace_id)
    if not ws.extractable:
        reason = f"workspace {workspace_id} is {ws.status.value}" + (
            "" if ws.meta.ad_accounts else " with no ad accounts"
        )
        raise ValueError(f"{reason}: nothing to sync")
    apply_partition_changes(instance, registry.list())
    tags = {"sentrum/trigger": "cli-sync"}
    if window:
        tags["sentrum/window"] = f"{window.start}..{window.end}"
    return run_batch(defs, instance, WorkspaceBatch((workspace_id,)), window, tags)


def run_nightly(defs: dg.Definitions, instance: dg.DagsterInstance, batch_size: int) -> list[RunOutcome]:
    """What the schedule does, now: one run per batch of extractable workspaces."""
    registry = _registry(defs)
    workspaces = registry.list()
    apply_partition_changes(instance, workspaces)
    keys = instance.get_dynamic_partitions(WORKSPACES)
    night = datetime.now(UTC).date().isoformat()
    batches = plan_batches(keys, [w.id for w in workspaces if w.extractable], batch_size)
    return [
        run_batch(
            defs, instance, b, tags={"night": night, "sentrum/trigger": "cli-nightly", "sentrum/batch": str(i + 1)}
        )
        for i, b in enumerate(batches)
    ]


def describe(outcomes: list[RunOutcome]) -> str:
    lines = []
    for o in outcomes:
        state = "succeeded" if o.success else "FAILED"
        lines.append(f"run {o.run_id[:8]} {state}: {len(o.workspaces)} workspace(s)")
        for w in o.workspaces_ok:
            lines.append(f"  ok      {w}")
        for w, errors in o.workspaces_failed.items():
            flag = " [reconnect needed]" if w in o.reconnect_needed else ""
            lines.append(f"  FAILED  {w}{flag}")
            for e in errors:
                lines.append(textwrap.indent(textwrap.fill(e, 100), "          "))
        if o.error and not o.workspaces_failed:
            lines.append(textwrap.indent(textwrap.fill(o.error, 100), "  "))
    return "\n".join(lines)
