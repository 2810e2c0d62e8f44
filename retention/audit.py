"""The append-only retention audit log: proof of each sweep. It holds no ad data: ids, times, table names, counts."""

from __future__ import annotations

from warehouse.schema import OPS_SCHEMA, Table

AUDIT_LOG = Table(
    "retention_audit_log",
    (
        ("workspace_id", "string"),
        ("requested_at", "timestamp"),
        ("swept_at", "timestamp"),
        ("tables_touched", "string"),  # JSON list of "<layer>.<table>" with rows deleted
        ("rows_deleted", "string"),  # JSON object: "<layer>.<table>" -> rows deleted
        ("rows_deleted_total", "int64"),
        ("verification", "string"),  # passed | failed
        ("remaining_rows", "string"),  # JSON object of what verification still found ({} when passed)
        ("tables_verified", "int64"),  # tables and views counted by the verification query
        ("secret_deleted", "bool"),
        ("partition_removed", "bool"),
        ("exports_removed", "int64"),
        ("registry_removed", "bool"),
        ("run_id", "string"),
    ),
    schema=OPS_SCHEMA,
)
