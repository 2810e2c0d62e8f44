"""What a finished run did, read from the instance's event log (wherever the run executed: here, or in a process
the daemon launched), and how the CLI says it: per workspace, and a failure by its own reason rather than Dagster's
wrapper ("Error occurred while executing op", "Exceeded max_retries of 2")."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from insights_jobs.errors import redact
from orchestration.asset_keys import INSIGHTS_KEY


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


def _is_dagster_wrapper(error: Any) -> bool:
    return error.cls_name.startswith("Dagster") or error.cls_name in ("RetryRequestedFromPolicy", "RetryRequested")


def error_reason(error: Any) -> str:
    """The reason of a Dagster error (SerializableErrorInfo) on one line: the first error in its cause chain that
    our code raised, not Dagster's wrappers."""
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


def failure_summary(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """One line on why the run failed: its first failed step's own reason, else the run's failure (a run that could
    not start, a lost process); None when nothing failed."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = entry.dagster_event
        data = event.step_failure_data
        desc = data.user_failure_data.description if data.user_failure_data else None
        message = redact(desc) if desc else (error_reason(data.error) if data.error else "unknown error")
        return f"step {event.step_key} failed: {message}"
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE):
        data = entry.dagster_event.event_specific_data
        error = getattr(data, "error", None)
        return f"the run failed: {error_reason(error) if error else redact(' '.join(entry.message.split()))}"
    return None


def run_outcome(instance: dg.DagsterInstance, run: dg.DagsterRun, label: str = "") -> RunOutcome:
    success = run.status == dg.DagsterRunStatus.SUCCESS
    out = RunOutcome(run.job_name, run.run_id, success, label)
    if not success:
        canceled = run.status == dg.DagsterRunStatus.CANCELED
        out.error = failure_summary(instance, run.run_id) or ("the run was canceled" if canceled else "the run failed")
    return out


def extract_outcome(
    instance: dg.DagsterInstance, run: dg.DagsterRun, workspace_ids: Sequence[str], label: str
) -> RunOutcome:
    """Per-workspace outcome of an extraction run: a workspace that landed has a materialization of its partition,
    one that failed an observation with the reasons; a failed run fails the rest with the run's reason."""
    out = run_outcome(instance, run, label)
    kinds = {dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_OBSERVATION}
    for entry in instance.all_logs(run.run_id, of_type=kinds):
        event = entry.dagster_event
        if event.is_step_materialization:
            mat = event.step_materialization_data.materialization
            if mat.asset_key == INSIGHTS_KEY and mat.partition:
                out.workspaces_ok.append(mat.partition)
        elif event.is_asset_observation:
            obs = event.asset_observation_data.asset_observation
            if obs.asset_key == INSIGHTS_KEY and obs.partition:
                meta = {k: v.value for k, v in obs.metadata.items()}
                out.workspaces_failed[obs.partition] = list(meta.get("errors", []))
                if meta.get("reconnect_needed"):
                    out.reconnect_needed.append(obs.partition)
    if not out.success:
        for w in workspace_ids:
            if w not in out.workspaces_ok and w not in out.workspaces_failed:
                out.workspaces_failed[w] = [out.error or "the run failed"]
    return out


def materialization_metadata(instance: dg.DagsterInstance, run_id: str, key: dg.AssetKey) -> dict[str, Any]:
    """The metadata values of the run's (last) materialization of `key`; empty when there is none."""
    found: dict[str, Any] = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        mat = entry.dagster_event.step_materialization_data.materialization
        if mat.asset_key == key:
            found = {k: v.value for k, v in mat.metadata.items()}
    return found


def describe(outcomes: Sequence[RunOutcome]) -> str:
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
