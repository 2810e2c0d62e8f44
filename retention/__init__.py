"""Privacy rights, enforced: deletion sweeps with proof, disconnect, export."""

from retention.audit import AUDIT_LOG
from retention.export import export_workspace
from retention.requests import disconnect, request_deletion
from retention.sweep import (
    RetentionError,
    SweepReport,
    due_for_sweep,
    overdue_requests,
    sweep_workspace,
    verify_deleted,
    workspace_tables,
)

__all__ = [
    "AUDIT_LOG",
    "RetentionError",
    "SweepReport",
    "disconnect",
    "due_for_sweep",
    "export_workspace",
    "overdue_requests",
    "request_deletion",
    "sweep_workspace",
    "verify_deleted",
    "workspace_tables",
]
