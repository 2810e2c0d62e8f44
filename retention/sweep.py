"""Deletion sweeps: every row of a workspace in every table that has a `workspace_id` column, found from the
warehouse catalog (a table added later is covered without editing a list), its token, its exports; proven by a
verification count over the same catalog and an audit row.

Order matters for crash safety: rows first, then verification, then the secret, exports and partition, then the
audit row, and the registry entry last, so a sweep killed at any point is found again by the next sweep and
completes; deleting is idempotent, so a repeated sweep is a no-op that still verifies.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from retention.audit import AUDIT_LOG
from secret_store import SecretStore
from warehouse import TableInfo, Warehouse
from workspaces import Registry, Workspace, WorkspaceStatus

log = logging.getLogger(__name__)

WORKSPACE_COLUMN = "workspace_id"


class RetentionError(RuntimeError):
    pass


def _name(t: TableInfo) -> str:
    return f"{t.schema}.{t.name}"


def _is_audit_log(t: TableInfo) -> bool:
    # The proof of deletion is kept (it holds ids and counts, no ad data), so the sweep never empties it.
    return t.schema == AUDIT_LOG.schema and t.name == AUDIT_LOG.name


def workspace_tables(wh: Warehouse) -> list[TableInfo]:
    """Every table and view of every layer with a workspace_id column, except the audit log."""
    return sorted((t for t in wh.tables_with_column(WORKSPACE_COLUMN) if not _is_audit_log(t)), key=_name)


@dataclass
class SweepReport:
    workspace_id: str
    requested_at: datetime | None
    swept_at: datetime
    dry_run: bool = False
    rows_deleted: dict[str, int] = field(default_factory=dict)  # dry run: rows that would be deleted
    remaining: dict[str, int] = field(default_factory=dict)
    tables_verified: int = 0
    secret_deleted: bool = False
    partition_removed: bool = False
    exports_removed: int = 0
    registry_removed: bool = False

    @property
    def verified(self) -> bool:
        return not self.dry_run and not self.remaining

    @property
    def total_deleted(self) -> int:
        return sum(self.rows_deleted.values())

    def audit_row(self, run_id: str) -> dict[str, Any]:
        touched = sorted(t for t, n in self.rows_deleted.items() if n)
        return {
            "workspace_id": self.workspace_id,
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
            "run_id": run_id,
        }

    def describe(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        lines = [f"{self.workspace_id}: {verb} {self.total_deleted} row(s) in {len(self.rows_deleted)} table(s)"]
        lines += [f"  {t}: {n}" for t, n in sorted(self.rows_deleted.items()) if n]
        if not self.dry_run:
            state = "passed" if self.verified else f"FAILED, rows remain: {self.remaining}"
            lines.append(f"  verification over {self.tables_verified} tables and views: {state}")
            lines.append(
                f"  secret deleted: {self.secret_deleted}; partition removed: {self.partition_removed}; "
                f"exports removed: {self.exports_removed}; registry entry removed: {self.registry_removed}"
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
    registry: Registry | None = None,
    dry_run: bool = False,
    run_id: str = "",
    now: datetime | None = None,
) -> SweepReport:
    report = SweepReport(workspace_id, requested_at, now or datetime.now(UTC), dry_run=dry_run)
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

    report.remaining, report.tables_verified = verify_deleted(wh, workspace_id)
    if secrets is not None and token_secret:
        report.secret_deleted = secrets.delete(token_secret) or not secrets.exists(token_secret)
    if exports_root is not None:
        report.exports_removed = remove_exports(exports_root, workspace_id)
    # The partition and the registry entry go only once nothing remains: until then the workspace stays visible
    # (and due), so the next sweep finishes the job.
    if report.verified and remove_partition is not None:
        report.partition_removed = remove_partition(workspace_id)
    if report.verified and registry is not None:
        report.registry_removed = registry.remove(workspace_id)
    wh.ensure_table(AUDIT_LOG)
    wh.append_rows(AUDIT_LOG, [report.audit_row(run_id)])
    if not report.verified:
        log.error("sweep of %s not verified: rows remain in %s", workspace_id, report.remaining)
    return report


def remove_exports(exports_root: Path, workspace_id: str) -> int:
    """Exports of the workspace are files under `<exports_root>/<workspace_id>/`; the number of files removed."""
    target = exports_root / workspace_id
    if not target.exists():
        return 0
    count = sum(1 for p in target.rglob("*") if p.is_file())
    shutil.rmtree(target)
    return count


def due_for_sweep(workspaces: list[Workspace]) -> list[Workspace]:
    return [w for w in workspaces if w.status is WorkspaceStatus.deletion_requested]


def overdue_requests(
    workspaces: list[Workspace], audit_rows: list[dict[str, Any]], now: datetime, max_age: timedelta
) -> dict[str, str]:
    """Deletion requests older than `max_age` without a verified sweep after them: id -> requested_at."""
    verified: dict[str, datetime] = {}
    for row in audit_rows:
        if row.get("verification") == "passed" and row.get("swept_at"):
            ws = row["workspace_id"]
            verified[ws] = max(verified.get(ws, row["swept_at"]), row["swept_at"])
    out = {}
    for w in due_for_sweep(workspaces):
        requested = w.deletion_requested_at
        assert requested is not None  # the model requires it for this status
        requested = requested if requested.tzinfo else requested.replace(tzinfo=UTC)
        swept = verified.get(w.id)
        if now - requested > max_age and (swept is None or swept < requested):
            out[w.id] = requested.isoformat()
    return out
