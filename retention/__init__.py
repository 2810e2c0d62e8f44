"""Privacy rights, enforced: deletion sweeps with proof, disconnect, export."""

from retention.audit import AUDIT_LOG, workspace_ref
from retention.export import ExportRefused, export_dir, export_workspace
from retention.paths import PathRefused, owned_child, remove_owned
from retention.requests import disconnect, request_deletion
from retention.sweep import (
    HistoryScrub,
    RetentionError,
    SweepRefused,
    SweepReport,
    SweepTarget,
    due_for_sweep,
    overdue_requests,
    plan_sweep,
    sweep_workspace,
    swept_refs,
    verify_deleted,
    workspace_tables,
)

__all__ = [
    "AUDIT_LOG",
    "ExportRefused",
    "HistoryScrub",
    "PathRefused",
    "RetentionError",
    "SweepRefused",
    "SweepReport",
    "SweepTarget",
    "disconnect",
    "due_for_sweep",
    "export_dir",
    "export_workspace",
    "overdue_requests",
    "owned_child",
    "plan_sweep",
    "remove_owned",
    "request_deletion",
    "swept_refs",
    "sweep_workspace",
    "verify_deleted",
    "workspace_ref",
    "workspace_tables",
]
