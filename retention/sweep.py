"""Deletion sweeps: every row of a workspace in every table that has a `workspace_id` column, found from the
warehouse catalog (a table added later is covered without editing a list), its access schema, its token, its
exports and its history outside the warehouse; proven by a verification count over the same catalog and an audit row.

A sweep acts only on what it is sure of (`plan_sweep`): registered workspaces whose deletion was requested, a
workspace an earlier sweep already removed (re-verification), or, on an explicit override confirmed by typing the
id, any one workspace. Anything else is refused before a single row is touched.

Order matters for crash safety: rows first, then verification, then the secret, exports, history and partition, then
the audit row, and the registry entry last, so a sweep killed at any point is found again by the next sweep and
completes; deleting is idempotent, so a repeated sweep is a no-op that still verifies.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from retention.audit import AUDIT_LOG, workspace_ref
from retention.paths import PathRefused, remove_owned
from secret_store import SecretStore, SecretStoreError
from warehouse import TableInfo, Warehouse
from workspaces import Registry, Workspace, WorkspaceStatus, check_workspace_id

log = logging.getLogger(__name__)

WORKSPACE_COLUMN = "workspace_id"

# What a sweep removes outside the warehouse (orchestration passes it: Dagster runs, dbt artefacts): counts by kind.
HistoryScrub = Callable[[str], Mapping[str, int]]


class RetentionError(RuntimeError):
    pass


class SweepRefused(RetentionError):
    """The sweep was aimed at something it must not delete: nothing was deleted."""


def _name(t: TableInfo) -> str:
    return f"{t.schema}.{t.name}"


def _is_audit_log(t: TableInfo) -> bool:
    # The proof of deletion is kept (a digest of the id and counts, no ad data), so the sweep never empties it.
    return t.schema == AUDIT_LOG.schema and t.name == AUDIT_LOG.name


def workspace_tables(wh: Warehouse) -> list[TableInfo]:
    """Every table and view of every layer with a workspace_id column, except the audit log."""
    return sorted((t for t in wh.tables_with_column(WORKSPACE_COLUMN) if not _is_audit_log(t)), key=_name)


# -- what to sweep ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepTarget:
    workspace_id: str
    workspace: Workspace | None  # None: not in the registry (swept before, or a forced sweep of leftover rows)
    forced: bool = False  # on the confirmed override: deletion is requested now, then swept


def plan_sweep(
    registered: Iterable[Workspace],
    swept_refs: set[str],
    workspace_id: str | None = None,
    *,
    force: bool = False,
    confirm: str | None = None,
    dry_run: bool = False,
) -> list[SweepTarget]:
    """The workspaces a sweep may act on, or SweepRefused.

    - no workspace: every registered workspace with status `deletion_requested`;
    - a workspace whose deletion was requested: that one;
    - a workspace no longer registered that an earlier sweep removed (its digest is in the audit log): re-verify it;
    - anything else (an active or disconnected workspace, an id never swept) only with `force` and `confirm` equal
      to the id (the person typed it), or as a dry run, which changes nothing.
    """
    workspaces = list(registered)
    if workspace_id is None:
        if force:
            raise SweepRefused("a forced sweep names one workspace (--workspace W)")
        return [SweepTarget(w.id, w) for w in due_for_sweep(workspaces)]
    try:
        check_workspace_id(workspace_id)
    except ValueError as exc:
        raise SweepRefused(str(exc)) from None
    ws = next((w for w in workspaces if w.id == workspace_id), None)
    if ws is not None and ws.status is WorkspaceStatus.deletion_requested:
        return [SweepTarget(workspace_id, ws)]
    if ws is None and workspace_ref(workspace_id) in swept_refs and not force:
        return [SweepTarget(workspace_id, None)]
    if dry_run:
        return [SweepTarget(workspace_id, ws)]
    if not force:
        state = f"is {ws.status.value}" if ws else "is not in the registry and was never swept"
        raise SweepRefused(
            f"workspace {workspace_id} {state}: a sweep deletes only workspaces whose deletion was requested "
            f"(sentrum workspaces delete {workspace_id}); to delete it now, confirm the override (--force)"
        )
    if confirm != workspace_id:
        raise SweepRefused(f"a forced sweep of {workspace_id} needs the confirmation: its id typed again")
    return [SweepTarget(workspace_id, ws, forced=True)]


# -- the report -------------------------------------------------------------------------------------------------
@dataclass
class SweepReport:
    workspace_id: str
    requested_at: datetime | None
    swept_at: datetime
    dry_run: bool = False
    forced: bool = False
    rows_deleted: dict[str, int] = field(default_factory=dict)  # dry run: rows that would be deleted
    remaining: dict[str, int] = field(default_factory=dict)
    tables_verified: int = 0
    access_schema_dropped: bool = False
    secret_deleted: bool = False
    partition_removed: bool = False
    exports_removed: int = 0
    history: dict[str, int] = field(default_factory=dict)
    registry_removed: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return workspace_ref(self.workspace_id)

    @property
    def verified(self) -> bool:
        return not self.dry_run and not self.remaining and not self.problems

    @property
    def total_deleted(self) -> int:
        return sum(self.rows_deleted.values())

    def audit_row(self, run_id: str) -> dict[str, Any]:
        touched = sorted(t for t, n in self.rows_deleted.items() if n)
        return {
            "workspace_ref": self.ref,
            "requested_at": self.requested_at,
            "swept_at": self.swept_at,
            "tables_touched": json.dumps(touched),
            "rows_deleted": json.dumps(self.rows_deleted, sort_keys=True),
            "rows_deleted_total": self.total_deleted,
            "verification": "passed" if self.verified else "failed",
            "remaining_rows": json.dumps(self.remaining, sort_keys=True),
            "tables_verified": self.tables_verified,
            "secret_deleted": self.secret_deleted,
            "partition_removed": self.partition_removed,
            "exports_removed": self.exports_removed,
            "registry_removed": self.registry_removed,
            "access_schema_dropped": self.access_schema_dropped,
            "history": json.dumps(self.history, sort_keys=True),
            "problems": json.dumps(self.problems),
            "forced": self.forced,
            "run_id": run_id,
        }

    def describe(self, label: str | None = None) -> str:
        """Human summary. `label` replaces the id (Dagster's logs name a swept workspace by its digest only)."""
        name = label or self.workspace_id
        verb = "would delete" if self.dry_run else "deleted"
        forced = " (forced)" if self.forced else ""
        lines = [f"{name}: {verb} {self.total_deleted} row(s) in {len(self.rows_deleted)} table(s){forced}"]
        lines += [f"  {t}: {n}" for t, n in sorted(self.rows_deleted.items()) if n]
        if not self.dry_run:
            if self.verified:
                state = "passed"
            else:
                state = "FAILED" + (f", rows remain: {self.remaining}" if self.remaining else "")
            lines.append(f"  verification over {self.tables_verified} tables and views: {state}")
            lines += [f"  problem: {p}" for p in self.problems]
            history = ", ".join(f"{k} {v}" for k, v in sorted(self.history.items())) or "-"
            lines.append(
                f"  secret deleted: {self.secret_deleted}; partition removed: {self.partition_removed}; "
                f"exports removed: {self.exports_removed}; access schema dropped: {self.access_schema_dropped}; "
                f"history: {history}; registry entry removed: {self.registry_removed}"
            )
        return "\n".join(lines)


def verify_deleted(wh: Warehouse, workspace_id: str) -> tuple[dict[str, int], int]:
    """Rows of the workspace still found anywhere in the catalog (tables and views): {} means none."""
    tables = workspace_tables(wh)
    remaining = {}
    for t in tables:
        n = wh.count_rows(t, workspace_id)
        if n:
            remaining[_name(t)] = n
    return remaining, len(tables)


def sweep_workspace(
    wh: Warehouse,
    workspace_id: str,
    *,
    requested_at: datetime | None,
    secrets: SecretStore | None = None,
    token_secret: str | None = None,
    exports_root: Path | None = None,
    remove_partition: Callable[[str], bool] | None = None,
    scrub_history: HistoryScrub | None = None,
    registry: Registry | None = None,
    dry_run: bool = False,
    forced: bool = False,
    run_id: str = "",
    now: datetime | None = None,
) -> SweepReport:
    check_workspace_id(workspace_id)  # the id reaches SQL parameters and a folder name: never anything else
    report = SweepReport(workspace_id, requested_at, now or datetime.now(UTC), dry_run=dry_run, forced=forced)
    tables = workspace_tables(wh)
    for t in tables:
        if t.kind != "table":
            continue  # a view holds no rows of its own; the verification counts through it
        if dry_run:
            report.rows_deleted[_name(t)] = wh.count_rows(t, workspace_id)
        else:
            report.rows_deleted[_name(t)] = wh.delete_rows(t, workspace_id)
    if dry_run:
        return report

    # The access views' SQL names the workspace: the schema goes too (dbt would drop it at its next run).
    report.access_schema_dropped = wh.drop_access_schema(workspace_id)
    report.remaining, report.tables_verified = verify_deleted(wh, workspace_id)
    if secrets is not None and token_secret:
        try:
            secrets.delete(token_secret)
            report.secret_deleted = not secrets.exists(token_secret)  # gone, whether deleted now or before
            if not report.secret_deleted:
                report.problems.append(f"secret {token_secret!r} still exists")
        except SecretStoreError as exc:
            report.problems.append(f"secret not deleted: {exc}")
    if exports_root is not None:
        try:
            report.exports_removed = remove_owned(exports_root, workspace_id)
        except (PathRefused, OSError) as exc:
            report.problems.append(f"exports not removed: {exc}")
    if scrub_history is not None:
        try:
            report.history = dict(scrub_history(workspace_id))
        except Exception as exc:  # recorded and retried by the next sweep; the registry entry stays until then
            report.problems.append(f"history not scrubbed: {type(exc).__name__}: {exc}")
    # The partition and the registry entry go only once nothing remains: until then the workspace stays visible
    # (and due), so the next sweep finishes the job.
    if report.verified and remove_partition is not None:
        report.partition_removed = remove_partition(workspace_id)
    if report.verified and registry is not None:
        report.registry_removed = registry.remove(workspace_id)
    wh.ensure_table(AUDIT_LOG)
    wh.append_rows(AUDIT_LOG, [report.audit_row(run_id)])
    if not report.verified:
        log.error("sweep of %s not verified: rows remain in %s; %s", report.ref, report.remaining, report.problems)
    return report


def swept_refs(wh: Warehouse) -> set[str]:
    """Digests of the workspaces the audit log shows a verified sweep of (read only: no table is created)."""
    if not any(_is_audit_log(t) for t in wh.tables_with_column("workspace_ref")):
        return set()
    ref = wh.table_ref(AUDIT_LOG.schema, AUDIT_LOG.name)
    rows = wh.query(f"select distinct workspace_ref from {ref} where verification = @passed", {"passed": "passed"})
    return {r["workspace_ref"] for r in rows if r["workspace_ref"]}


def due_for_sweep(workspaces: list[Workspace]) -> list[Workspace]:
    return [w for w in workspaces if w.status is WorkspaceStatus.deletion_requested]


def overdue_requests(
    workspaces: list[Workspace], audit_rows: list[dict[str, Any]], now: datetime, max_age: timedelta
) -> dict[str, str]:
    """Deletion requests older than `max_age` without a verified sweep after them: id -> requested_at."""
    verified: dict[str, datetime] = {}
    for row in audit_rows:
        if row.get("verification") == "passed" and row.get("swept_at") and row.get("workspace_ref"):
            ref = row["workspace_ref"]
            verified[ref] = max(verified.get(ref, row["swept_at"]), row["swept_at"])
    out = {}
    for w in due_for_sweep(workspaces):
        requested = w.deletion_requested_at
        assert requested is not None  # the model requires it for this status
        requested = requested if requested.tzinfo else requested.replace(tzinfo=UTC)
        swept = verified.get(workspace_ref(w.id))
        if swept is not None and swept.tzinfo is None:
            swept = swept.replace(tzinfo=UTC)
        if now - requested > max_age and (swept is None or swept < requested):
            out[w.id] = requested.isoformat()
    return out
